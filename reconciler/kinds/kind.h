/*
 * kind.h - a kind is a table plus a few hooks.
 *
 * Each kind is one const struct ccai_kind with designated initialisers,
 * in its own file (kinds/<kind>.c), listed once in kinds/registry.c.  The
 * validation stage uses the fields below; later stages add how the kind
 * maps spec <-> API body, its identity rule and its quirks.
 */
#ifndef CCAI_KINDS_KIND_H
#define CCAI_KINDS_KIND_H

#include "util/common.h"

/* A `*Ref` field of a spec: {name: N[, project: P]} or {external: "..."}. */
struct ccai_kind_ref {
	const char *
		field; /* dotted spec path, e.g. "automatedAgentConfig.agentRef" */
	const char *kind; /* the kind a {name} points at */
	const char *
		api_field; /* the API field it stands for, e.g. "automatedAgentConfig.agent" */
	bool list; /* a list of refs (RoleBinding.serviceAccountRefs) */
};

struct ccai_kind {
	const char *name; /* "Agent" */
	const char *schema; /* file in schemas/, e.g. "Agent.schema.json" */
	/* API it lives in: an ApiService of it in the set comes first */
	const char *service;
	bool located; /* lives in a location (metadata.location applies) */
	const struct ccai_kind_ref *refs; /* ended by a NULL field */
};

/* The registry: every kind, in a stable order; ended by NULL. */
extern const struct ccai_kind *const ccai_kinds[];

const struct ccai_kind *ccai_kind_find(const char *name);
size_t ccai_kind_count(void);

extern const struct ccai_kind ccai_kind_api_service;
extern const struct ccai_kind ccai_kind_service_account;
extern const struct ccai_kind ccai_kind_service_account_key;
extern const struct ccai_kind ccai_kind_role_binding;
extern const struct ccai_kind ccai_kind_security_settings;
extern const struct ccai_kind ccai_kind_agent;
extern const struct ccai_kind ccai_kind_logging_settings;
extern const struct ccai_kind ccai_kind_conversation_profile;
extern const struct ccai_kind ccai_kind_insights_settings;

#endif
