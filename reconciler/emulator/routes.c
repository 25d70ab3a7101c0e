/*
 * routes.c - every route the emulator serves, as one const table.
 *
 * A pattern is the URL path with '*' for one path segment (no '/' and
 * no ':'); the id is the discovery method id (what /__emulator/stats
 * counts) and doc the discovery document whose method description checks
 * the query and the body.  test_emu_routes checks each row against the
 * documents: the id exists, the HTTP method agrees and the pattern fits
 * the document's flatPath.  The first row that matches wins.  Rows
 * without a document (Cloud Storage, tokens, /__emulator) check their
 * query and body by hand in their handlers.
 */
#include "util/common.h"
#include "emulator/internal.h"

#define SU "serviceusage.v1"
#define IAM "iam.v1"
#define IAMC "iamcredentials.v1"
#define CRM1 "cloudresourcemanager.v1"
#define CRM3 "cloudresourcemanager.v3"
#define DF2 "dialogflow.v2"
#define DF3 "dialogflow.v3"
#define CCI "contactcenterinsights.v1"
#define STS "sts.v1"

#define TOKEN (EMU_R_NOAUTH | EMU_R_NOFAULT | EMU_R_NOPROJECT | EMU_R_RAW)
#define ADMIN                                                             \
	(EMU_R_NOAUTH | EMU_R_NOFAULT | EMU_R_NOSTATS | EMU_R_NOPROJECT | \
	 EMU_R_RAW)
#define DFSVC "dialogflow.googleapis.com"
#define CCISVC "contactcenterinsights.googleapis.com"

#define SA "/v1/projects/*/serviceAccounts"
#define GCSB "/storage/v1/b"
#define GCS (EMU_R_NOPROJECT)
#define GCSRAW (EMU_R_NOPROJECT | EMU_R_RAW)
#define CX "/v3/projects/*/locations/*"

#define V2_PROFILES(base, id)                                  \
	{ "POST",                                              \
	  base "/conversationProfiles",                        \
	  id "conversationProfiles.create",                    \
	  DF2,                                                 \
	  ccai_emu_h_profile_create,                           \
	  0,                                                   \
	  DFSVC },                                             \
		{ "GET",                                       \
		  base "/conversationProfiles",                \
		  id "conversationProfiles.list",              \
		  DF2,                                         \
		  ccai_emu_h_profile_list,                     \
		  0,                                           \
		  DFSVC },                                     \
		{ "GET",                                       \
		  base "/conversationProfiles/*",              \
		  id "conversationProfiles.get",               \
		  DF2,                                         \
		  ccai_emu_h_profile_get,                      \
		  0,                                           \
		  DFSVC },                                     \
		{ "PATCH",                                     \
		  base "/conversationProfiles/*",              \
		  id "conversationProfiles.patch",             \
		  DF2,                                         \
		  ccai_emu_h_profile_patch,                    \
		  0,                                           \
		  DFSVC },                                     \
	{                                                      \
		"DELETE", base "/conversationProfiles/*",      \
			id "conversationProfiles.delete", DF2, \
			ccai_emu_h_profile_delete, 0, DFSVC    \
	}

#define V2_CONVERSATIONS(base, id)                                             \
	{ "POST", base "/conversations",  id "conversations.create",           \
	  DF2,	  ccai_emu_h_conv_create, 0,                                   \
	  DFSVC },                                                             \
		{ "GET", base "/conversations", id "conversations.list",       \
		  DF2,	 ccai_emu_h_conv_list,	0,                             \
		  DFSVC },                                                     \
		{ "GET", base "/conversations/*", id "conversations.get",      \
		  DF2,	 ccai_emu_h_conv_get,	  0,                           \
		  DFSVC },                                                     \
		{ "POST",                                                      \
		  base "/conversations/*:complete",                            \
		  id "conversations.complete",                                 \
		  DF2,                                                         \
		  ccai_emu_h_conv_complete,                                    \
		  0,                                                           \
		  DFSVC },                                                     \
		{ "GET",                                                       \
		  base "/conversations/*/messages",                            \
		  id "conversations.messages.list",                            \
		  DF2,                                                         \
		  ccai_emu_h_messages_list,                                    \
		  0,                                                           \
		  DFSVC },                                                     \
		{ "POST",                                                      \
		  base "/conversations/*/participants",                        \
		  id "conversations.participants.create",                      \
		  DF2,                                                         \
		  ccai_emu_h_participant_create,                               \
		  0,                                                           \
		  DFSVC },                                                     \
		{ "GET",                                                       \
		  base "/conversations/*/participants",                        \
		  id "conversations.participants.list",                        \
		  DF2,                                                         \
		  ccai_emu_h_participant_list,                                 \
		  0,                                                           \
		  DFSVC },                                                     \
		{ "GET",                                                       \
		  base "/conversations/*/participants/*",                      \
		  id "conversations.participants.get",                         \
		  DF2,                                                         \
		  ccai_emu_h_participant_get,                                  \
		  0,                                                           \
		  DFSVC },                                                     \
	{                                                                      \
		"POST", base "/conversations/*/participants/*:analyzeContent", \
			id "conversations.participants.analyzeContent", DF2,   \
			ccai_emu_h_analyze_content, 0, DFSVC                   \
	}

const struct ccai_emu_route ccai_emu_routes[] = {
	/* OAuth2, STS and the metadata server: never faulted */
	{ "POST", "/token", "oauth2.token", NULL, ccai_emu_h_token, TOKEN,
	  NULL },
	{ "POST", "/oauth2/v4/token", "oauth2.token", NULL, ccai_emu_h_token,
	  TOKEN, NULL },
	{ "POST", "/v1/token", "sts.token", STS, ccai_emu_h_sts_token, TOKEN,
	  NULL },
	{ "POST", "/v1/oauthtoken", "sts.oauthtoken", NULL,
	  ccai_emu_h_sts_oauthtoken, TOKEN, NULL },
	{ "POST", SA "/*:generateAccessToken",
	  "iamcredentials.projects.serviceAccounts.generateAccessToken", IAMC,
	  ccai_emu_h_generate_access_token, EMU_R_NOFAULT | EMU_R_ANYPROJECT,
	  NULL },
	{ "GET", "/computeMetadata/v1/instance/service-accounts/default/token",
	  "metadata.token", NULL, ccai_emu_h_metadata, TOKEN, NULL },
	{ "GET", "/computeMetadata/v1/instance/service-accounts/default/email",
	  "metadata.email", NULL, ccai_emu_h_metadata, TOKEN, NULL },
	{ "GET", "/computeMetadata/v1/project/project-id", "metadata.projectId",
	  NULL, ccai_emu_h_metadata, TOKEN, NULL },
	{ "GET", "/computeMetadata/v1/", "metadata.ping", NULL,
	  ccai_emu_h_metadata, TOKEN, NULL },
	{ "GET", "/", "metadata.ping", NULL, ccai_emu_h_metadata, TOKEN, NULL },

	/* the emulator's own */
	{ "POST", "/__emulator/faults", "emulator.faults.set", NULL,
	  ccai_emu_h_faults_set, ADMIN, NULL },
	{ "GET", "/__emulator/faults", "emulator.faults.get", NULL,
	  ccai_emu_h_faults_get, ADMIN, NULL },
	{ "GET", "/__emulator/stats", "emulator.stats.get", NULL,
	  ccai_emu_h_stats_get, ADMIN, NULL },
	{ "DELETE", "/__emulator/stats", "emulator.stats.reset", NULL,
	  ccai_emu_h_stats_reset, ADMIN, NULL },
	{ "GET", "/__emulator/requests", "emulator.requests.get", NULL,
	  ccai_emu_h_requests_get, ADMIN, NULL },
	{ "GET", "/__emulator/clock", "emulator.clock.get", NULL,
	  ccai_emu_h_clock_get, ADMIN, NULL },
	{ "POST", "/__emulator/clock", "emulator.clock.set", NULL,
	  ccai_emu_h_clock_set, ADMIN, NULL },

	/* serviceusage v1 */
	{ "GET", "/v1/projects/*/services/*", "serviceusage.services.get", SU,
	  ccai_emu_h_services_get, EMU_R_NUMBERS, NULL },
	{ "GET", "/v1/projects/*/services", "serviceusage.services.list", SU,
	  ccai_emu_h_services_list, EMU_R_NUMBERS, NULL },
	{ "GET", "/v1/projects/*/services:batchGet",
	  "serviceusage.services.batchGet", SU, ccai_emu_h_services_batch_get,
	  EMU_R_NUMBERS, NULL },
	{ "POST", "/v1/projects/*/services/*:enable",
	  "serviceusage.services.enable", SU, ccai_emu_h_services_enable,
	  EMU_R_NUMBERS, NULL },
	{ "POST", "/v1/projects/*/services/*:disable",
	  "serviceusage.services.disable", SU, ccai_emu_h_services_disable,
	  EMU_R_NUMBERS, NULL },
	{ "POST", "/v1/projects/*/services:batchEnable",
	  "serviceusage.services.batchEnable", SU,
	  ccai_emu_h_services_batch_enable, EMU_R_NUMBERS, NULL },
	{ "GET", "/v1/operations/*", "serviceusage.operations.get", SU,
	  ccai_emu_h_operation_get, EMU_R_NOPROJECT, NULL },

	/* iam v1 */
	{ "POST", SA, "iam.projects.serviceAccounts.create", IAM,
	  ccai_emu_h_sa_create, 0, NULL },
	{ "GET", SA, "iam.projects.serviceAccounts.list", IAM,
	  ccai_emu_h_sa_list, 0, NULL },
	{ "GET", SA "/*", "iam.projects.serviceAccounts.get", IAM,
	  ccai_emu_h_sa_get, EMU_R_ANYPROJECT, NULL },
	{ "PATCH", SA "/*", "iam.projects.serviceAccounts.patch", IAM,
	  ccai_emu_h_sa_patch, EMU_R_ANYPROJECT, NULL },
	{ "PUT", SA "/*", "iam.projects.serviceAccounts.update", IAM,
	  ccai_emu_h_sa_update, EMU_R_ANYPROJECT, NULL },
	{ "DELETE", SA "/*", "iam.projects.serviceAccounts.delete", IAM,
	  ccai_emu_h_sa_delete, EMU_R_ANYPROJECT, NULL },
	{ "POST", SA "/*:enable", "iam.projects.serviceAccounts.enable", IAM,
	  ccai_emu_h_sa_enable, EMU_R_ANYPROJECT, NULL },
	{ "POST", SA "/*:disable", "iam.projects.serviceAccounts.disable", IAM,
	  ccai_emu_h_sa_disable, EMU_R_ANYPROJECT, NULL },
	{ "POST", SA "/*/keys", "iam.projects.serviceAccounts.keys.create", IAM,
	  ccai_emu_h_key_create, EMU_R_ANYPROJECT, NULL },
	{ "GET", SA "/*/keys", "iam.projects.serviceAccounts.keys.list", IAM,
	  ccai_emu_h_key_list, EMU_R_ANYPROJECT, NULL },
	{ "GET", SA "/*/keys/*", "iam.projects.serviceAccounts.keys.get", IAM,
	  ccai_emu_h_key_get, EMU_R_ANYPROJECT, NULL },
	{ "DELETE", SA "/*/keys/*", "iam.projects.serviceAccounts.keys.delete",
	  IAM, ccai_emu_h_key_delete, EMU_R_ANYPROJECT, NULL },
	{ "POST", SA "/*/keys/*:enable",
	  "iam.projects.serviceAccounts.keys.enable", IAM,
	  ccai_emu_h_key_enable, EMU_R_ANYPROJECT, NULL },
	{ "POST", SA "/*/keys/*:disable",
	  "iam.projects.serviceAccounts.keys.disable", IAM,
	  ccai_emu_h_key_disable, EMU_R_ANYPROJECT, NULL },

	/* cloudresourcemanager v1 and v3 */
	{ "GET", "/v1/projects/*", "cloudresourcemanager.projects.get", CRM1,
	  ccai_emu_h_project_get, 0, NULL },
	{ "POST", "/v1/projects/*:getIamPolicy",
	  "cloudresourcemanager.projects.getIamPolicy", CRM1,
	  ccai_emu_h_get_iam_policy, 0, NULL },
	{ "POST", "/v1/projects/*:setIamPolicy",
	  "cloudresourcemanager.projects.setIamPolicy", CRM1,
	  ccai_emu_h_set_iam_policy, 0, NULL },
	{ "POST", "/v1/projects/*:testIamPermissions",
	  "cloudresourcemanager.projects.testIamPermissions", CRM1,
	  ccai_emu_h_test_iam_permissions, 0, NULL },
	{ "GET", "/v3/projects/*", "cloudresourcemanager.projects.get", CRM3,
	  ccai_emu_h_project_get, 0, NULL },
	{ "POST", "/v3/projects/*:getIamPolicy",
	  "cloudresourcemanager.projects.getIamPolicy", CRM3,
	  ccai_emu_h_get_iam_policy, 0, NULL },
	{ "POST", "/v3/projects/*:setIamPolicy",
	  "cloudresourcemanager.projects.setIamPolicy", CRM3,
	  ccai_emu_h_set_iam_policy, 0, NULL },
	{ "POST", "/v3/projects/*:testIamPermissions",
	  "cloudresourcemanager.projects.testIamPermissions", CRM3,
	  ccai_emu_h_test_iam_permissions, 0, NULL },

	/* dialogflow v3 (CX) */
	{ "POST", CX "/securitySettings",
	  "dialogflow.projects.locations.securitySettings.create", DF3,
	  ccai_emu_h_cx_ss_create, 0, DFSVC },
	{ "GET", CX "/securitySettings",
	  "dialogflow.projects.locations.securitySettings.list", DF3,
	  ccai_emu_h_cx_ss_list, 0, DFSVC },
	{ "GET", CX "/securitySettings/*",
	  "dialogflow.projects.locations.securitySettings.get", DF3,
	  ccai_emu_h_cx_ss_get, 0, DFSVC },
	{ "PATCH", CX "/securitySettings/*",
	  "dialogflow.projects.locations.securitySettings.patch", DF3,
	  ccai_emu_h_cx_ss_patch, 0, DFSVC },
	{ "DELETE", CX "/securitySettings/*",
	  "dialogflow.projects.locations.securitySettings.delete", DF3,
	  ccai_emu_h_cx_ss_delete, 0, DFSVC },
	{ "POST", CX "/agents", "dialogflow.projects.locations.agents.create",
	  DF3, ccai_emu_h_cx_agent_create, 0, DFSVC },
	{ "GET", CX "/agents", "dialogflow.projects.locations.agents.list", DF3,
	  ccai_emu_h_cx_agent_list, 0, DFSVC },
	{ "GET", CX "/agents/*", "dialogflow.projects.locations.agents.get",
	  DF3, ccai_emu_h_cx_agent_get, 0, DFSVC },
	{ "PATCH", CX "/agents/*", "dialogflow.projects.locations.agents.patch",
	  DF3, ccai_emu_h_cx_agent_patch, 0, DFSVC },
	{ "DELETE", CX "/agents/*",
	  "dialogflow.projects.locations.agents.delete", DF3,
	  ccai_emu_h_cx_agent_delete, 0, DFSVC },
	{ "POST", CX "/agents/*:restore",
	  "dialogflow.projects.locations.agents.restore", DF3,
	  ccai_emu_h_cx_agent_restore, 0, DFSVC },
	{ "POST", CX "/agents/*:export",
	  "dialogflow.projects.locations.agents.export", DF3,
	  ccai_emu_h_cx_agent_export, 0, DFSVC },
	{ "POST", CX "/agents/*/sessions/*:detectIntent",
	  "dialogflow.projects.locations.agents.sessions.detectIntent", DF3,
	  ccai_emu_h_cx_detect_intent, 0, DFSVC },
	{ "POST", CX "/agents/*/environments/*/sessions/*:detectIntent",
	  "dialogflow.projects.locations.agents.environments.sessions."
	  "detectIntent",
	  DF3, ccai_emu_h_cx_detect_intent, 0, DFSVC },
	{ "GET", CX "/operations/*",
	  "dialogflow.projects.locations.operations.get", DF3,
	  ccai_emu_h_operation_get, 0, DFSVC },
	{ "GET", "/v3/projects/*/operations/*",
	  "dialogflow.projects.operations.get", DF3, ccai_emu_h_operation_get,
	  0, DFSVC },

	/* dialogflow v2 (Agent Assist), located and not */
	V2_PROFILES("/v2/projects/*/locations/*",
		    "dialogflow.projects.locations."),
	V2_PROFILES("/v2/projects/*", "dialogflow.projects."),
	V2_CONVERSATIONS("/v2/projects/*/locations/*",
			 "dialogflow.projects.locations."),
	V2_CONVERSATIONS("/v2/projects/*", "dialogflow.projects."),
	{ "GET", "/v2/projects/*/locations/*/operations/*",
	  "dialogflow.projects.locations.operations.get", DF2,
	  ccai_emu_h_operation_get, 0, DFSVC },
	{ "GET", "/v2/projects/*/operations/*",
	  "dialogflow.projects.operations.get", DF2, ccai_emu_h_operation_get,
	  0, DFSVC },

	/* contactcenterinsights v1 */
	{ "GET", "/v1/projects/*/locations/*/settings",
	  "contactcenterinsights.projects.locations.getSettings", CCI,
	  ccai_emu_h_insights_settings_get, 0, CCISVC },
	{ "PATCH", "/v1/projects/*/locations/*/settings",
	  "contactcenterinsights.projects.locations.updateSettings", CCI,
	  ccai_emu_h_insights_settings_update, 0, CCISVC },
	{ "GET", "/v1/projects/*/locations/*/conversations",
	  "contactcenterinsights.projects.locations.conversations.list", CCI,
	  ccai_emu_h_insights_conv_list, 0, CCISVC },
	{ "GET", "/v1/projects/*/locations/*/conversations/*",
	  "contactcenterinsights.projects.locations.conversations.get", CCI,
	  ccai_emu_h_insights_conv_get, 0, CCISVC },
	{ "DELETE", "/v1/projects/*/locations/*/conversations/*",
	  "contactcenterinsights.projects.locations.conversations.delete", CCI,
	  ccai_emu_h_insights_conv_delete, 0, CCISVC },
	{ "GET", "/v1/projects/*/locations/*/operations/*",
	  "contactcenterinsights.projects.locations.operations.get", CCI,
	  ccai_emu_h_operation_get, 0, CCISVC },

	/* storage v1 (JSON API): no discovery document, checks by hand */
	{ "POST", GCSB, "storage.buckets.insert", NULL,
	  ccai_emu_h_gcs_bucket_insert, GCS, NULL },
	{ "GET", GCSB, "storage.buckets.list", NULL, ccai_emu_h_gcs_bucket_list,
	  GCS, NULL },
	{ "GET", GCSB "/*/o", "storage.objects.list", NULL,
	  ccai_emu_h_gcs_object_list, GCS, NULL },
	{ "GET", "/download" GCSB "/*/o/**", "storage.objects.get", NULL,
	  ccai_emu_h_gcs_object_download, GCS, NULL },
	{ "GET", GCSB "/*", "storage.buckets.get", NULL,
	  ccai_emu_h_gcs_bucket_get, GCS, NULL },
	{ "DELETE", GCSB "/*", "storage.buckets.delete", NULL,
	  ccai_emu_h_gcs_bucket_delete, GCS, NULL },
	{ "POST", "/upload" GCSB "/*/o", "storage.objects.insert", NULL,
	  ccai_emu_h_gcs_object_insert, GCSRAW, NULL },
	{ "GET", GCSB "/*/o/**", "storage.objects.get", NULL,
	  ccai_emu_h_gcs_object_get, GCS, NULL },
	{ "DELETE", GCSB "/*/o/**", "storage.objects.delete", NULL,
	  ccai_emu_h_gcs_object_delete, GCS, NULL },
};

const size_t ccai_emu_nroutes = CCAI_ARRAY_SIZE(ccai_emu_routes);
