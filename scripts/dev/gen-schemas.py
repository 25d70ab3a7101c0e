#!/usr/bin/env python3
"""Dev-time helper: derives schemas/<Kind>.schema.json from the discovery
documents in ../shared/reference/discovery (or --discovery DIR).

Not used by the build or by CI: the schemas it writes are committed and
hand-curated through the tables below (patterns, ranges, refs, fields left
out).  Re-run it after editing those tables or updating the discovery
documents, then review the diff:

    python3 scripts/dev/gen-schemas.py [--discovery DIR] [--out schemas]

What it does, per kind: walks the discovery type of the API resource,
keeps its writable fields (output-only ones are dropped and listed in
x-ccaictl.outputOnly), copies each field's enum exactly, turns formats into
what the wire wants (google-duration -> "^[0-9]+(\\.[0-9]{1,9})?s$",
int32 -> integer in range, int64 -> integer or digit string, double ->
number), marks "Required." fields required, shortens each description to
one line, and applies the per-field overrides below.  Types used more than
once in a kind go to "definitions".  Patterns stick to what both ECMA 262
and POSIX ERE understand (classes, anchors, quantifiers, groups,
alternation).
"""

import argparse
import copy
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# ---------------------------------------------------------------- patterns
NAME_RE = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
PROJECT_RE = "^[a-z][-a-z0-9]{4,28}[a-z0-9]$"
LOCATION_RE = "^[a-z]+(-[a-z]+[0-9]+)?$"
DURATION_RE = "^[0-9]+(\\.[0-9]{1,9})?s$"
LANG_RE = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
TZ_RE = "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"
TOPIC_RE = "^projects/[^/]+/topics/[^/]+$"
KIND_RE = "[A-Z][A-Za-z]+/[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DEPENDS_RE = "^" + KIND_RE + "(, *" + KIND_RE + ")*$"
SA_EMAIL_RE = "[a-z][-a-z0-9]*@[-a-z0-9.]+"
GS_URI_RE = "^gs://[^/]+/.+$"


def dlp(kind, located=True):
    loc = "locations/[^/]+/" if located else "(locations/[^/]+/)?"
    return "^(projects|organizations)/[^/]+/" + loc + kind + "/[^/]+$"


def lang(desc):
    return {"type": "string", "pattern": LANG_RE, "description": desc}


INT32 = {"minimum": -2147483648, "maximum": 2147483647}
UNIQUE = {"uniqueItems": True}

# ------------------------------------------------------------ descriptions
LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]+\)")
SENTENCE_RE = re.compile(r"(?<=[A-Za-z0-9)`'\"\]])\.\s+(?=[A-Z0-9`*(-])")


def shorten(text, limit=200):
    """First sentence of a discovery description, links and prefixes gone."""
    t = " ".join((text or "").split())
    t = LINK_RE.sub(r"\1", t)
    t = re.sub(r"\s*\(https?://[^)]*\)", "", t)
    immutable = False
    while True:
        m = re.match(r"^(Required|Optional|Immutable)\.\s*", t)
        if not m:
            break
        immutable = immutable or m.group(1) == "Immutable"
        t = t[m.end():]
    first = t
    for m in SENTENCE_RE.finditer(t):
        if not re.search(r"\b(e\.g|i\.e|etc|vs)$", t[: m.start()]):
            first = t[: m.start()]
            break
    first = first.rstrip(".") + "."
    if len(first) > limit:
        cut = first[: limit - 1].rsplit(" ", 1)[0]
        first = cut.rstrip(",;:") + "..."
    if immutable:
        first = first.rstrip(".") + " (immutable)."
    return first


def is_output_only(prop):
    d = prop.get("description", "")
    return prop.get("readOnly") or d.startswith("Output only")


def is_required(prop):
    return prop.get("description", "").startswith("Required.")


# ------------------------------------------------------------- converter
class Discovery:
    def __init__(self, directory):
        self.dir = directory
        self.docs = {}

    def doc(self, api):
        if api not in self.docs:
            with open(os.path.join(self.dir, api + ".json")) as f:
                self.docs[api] = json.load(f)
        return self.docs[api]

    def type(self, api, name):
        return self.doc(api)["schemas"][name]


PREFIXES = (
    "GoogleCloudDialogflowCxV3",
    "GoogleCloudDialogflowV2",
    "GoogleCloudContactcenterinsightsV1",
)


def short_type(name):
    for p in PREFIXES:
        if name.startswith(p):
            name = name[len(p):]
            break
    return name[0].lower() + name[1:]


class Kind:
    """One kind: its discovery root, overrides, and collected facts.

    overrides maps (TypeName, field) -> dict.  Special keys:
      "skip": True             leave the field out (not in the manifest)
      "outputOnly": True       leave it out and list it in x-ccaictl
      "replace": (name, sch)   use a different field instead (refs)
      "schema": {...}          use this schema as is
    other keys are merged into the generated field schema (for arrays,
    "items" is merged into the item schema).
    type_extra maps TypeName -> keys merged into that object's schema.
    extra_props maps TypeName -> {field: schema} added (newer API fields).
    """

    def __init__(self, disc, api, root, overrides=None, type_extra=None,
                 extra_props=None):
        self.disc = disc
        self.api = api
        self.root = root
        self.overrides = overrides or {}
        self.type_extra = type_extra or {}
        self.extra_props = extra_props or {}
        self.output_only = []
        self.shared = set()
        self.definitions = {}

    def _field_override(self, tname, field):
        return self.overrides.get((tname, field), {})

    def _count_refs(self, tname, counts, stack=()):
        if tname in stack:
            raise SystemExit("recursive type " + tname)
        t = self.disc.type(self.api, tname)
        for field, prop in t.get("properties", {}).items():
            ov = self._field_override(tname, field)
            if ov.get("skip") or ov.get("outputOnly") or ov.get("replace") \
                    or ov.get("schema") or is_output_only(prop):
                continue
            ref = (prop.get("$ref") or prop.get("items", {}).get("$ref")
                   or (prop.get("additionalProperties") or {}).get("$ref"))
            if ref:
                counts[ref] = counts.get(ref, 0) + 1
                if counts[ref] == 1:
                    self._count_refs(ref, counts, stack + (tname,))

    def build_spec(self):
        counts = {}
        self._count_refs(self.root, counts)
        self.shared = {t for t, n in counts.items() if n > 1}
        return self._object(self.root, "")

    def _object(self, tname, path):
        t = self.disc.type(self.api, tname)
        props = {}
        required = []
        for field, prop in sorted(t.get("properties", {}).items()):
            fpath = path + field
            ov = self._field_override(tname, field)
            if ov.get("skip"):
                continue
            if ov.get("outputOnly") or is_output_only(prop):
                self.output_only.append(fpath)
                continue
            if "replace" in ov:
                name, sch = ov["replace"]
                props[name] = sch
                if ov.get("required"):
                    required.append(name)
                continue
            if "schema" in ov:
                sch = copy.deepcopy(ov["schema"])
            else:
                sch = self._prop(prop, fpath + ".")
                for k, v in ov.items():
                    if k == "items":
                        sch["items"].update(v)
                    elif k not in ("required",):
                        sch[k] = v
            sch.setdefault("description", shorten(prop.get("description")))
            # keep "description" first for readability
            props[field] = {"description": sch.pop("description"), **sch}
            if is_required(prop) or ov.get("required"):
                required.append(field)
        for field, sch in self.extra_props.get(tname, {}).items():
            props[field] = sch
        props = dict(sorted(props.items()))
        out = {"type": "object"}
        if required:
            out["required"] = sorted(required)
        out["properties"] = props
        out["additionalProperties"] = False
        out.update(copy.deepcopy(self.type_extra.get(tname, {})))
        return out

    def _ref(self, tname, path):
        if tname in self.shared:
            key = short_type(tname)
            if key not in self.definitions:
                self.definitions[key] = None  # placeholder: no loops
                d = self._object(tname, path)
                d = {"description": shorten(
                    self.disc.type(self.api, tname).get("description")), **d}
                self.definitions[key] = d
            return {"$ref": "#/definitions/" + key}
        return self._object(tname, path)

    def _prop(self, prop, path):
        if "$ref" in prop:
            return self._ref(prop["$ref"], path)
        typ = prop.get("type")
        fmt = prop.get("format")
        if typ == "array":
            return {"type": "array", "items": self._prop(prop["items"], path)}
        if typ == "object":
            ap = prop.get("additionalProperties")
            if ap is None or ap.get("type") == "any":
                return {"type": "object"}
            return {"type": "object",
                    "additionalProperties": self._prop(ap, path)}
        if typ == "string":
            sch = {"type": "string"}
            if fmt == "google-duration":
                sch["pattern"] = DURATION_RE
            elif fmt in ("int64", "uint64"):
                sch = {"type": ["integer", "string"],
                       "pattern": "^-?[0-9]+$" if fmt == "int64"
                       else "^[0-9]+$"}
                if fmt == "uint64":
                    sch["minimum"] = 0
            elif fmt in ("google-datetime",):
                sch["pattern"] = ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
                                  "[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?"
                                  "(Z|[+-][0-9]{2}:[0-9]{2})$")
            if "enum" in prop:
                sch["enum"] = list(prop["enum"])
            return sch
        if typ == "integer":
            sch = {"type": "integer"}
            if fmt == "int32":
                sch.update(INT32)
            elif fmt == "uint32":
                sch.update({"minimum": 0, "maximum": 4294967295})
            return sch
        if typ == "number":
            return {"type": "number"}
        if typ == "boolean":
            return {"type": "boolean"}
        if typ == "any":
            return {}
        raise SystemExit("unhandled discovery type %r at %s" % (prop, path))


# ------------------------------------------------------------------ shapes
def ref_def(desc, external_re, external_desc):
    return {
        "description": desc,
        "type": "object",
        "properties": {
            "name": {
                "description": "metadata.name of a manifest of that kind in "
                               "the set.",
                "type": "string",
                "pattern": NAME_RE,
                "maxLength": 63,
            },
            "project": {
                "description": "Project of that manifest, when it is not "
                               "this document's project.",
                "type": "string",
                "pattern": PROJECT_RE,
            },
            "external": {
                "description": external_desc,
                "type": "string",
                "pattern": external_re,
            },
        },
        "additionalProperties": False,
        "minProperties": 1,
    }


REFS = {
    "securitySettingsRef": ref_def(
        "A SecuritySettings: {name: N} of a manifest in the set, or "
        "{external: full resource name}.",
        "^projects/[^/]+/locations/[^/]+/securitySettings/[^/]+$",
        "Full name: projects/P/locations/L/securitySettings/ID (same "
        "location)."),
    "agentRef": ref_def(
        "A CX Agent: {name: N} of a manifest in the set, or "
        "{external: full resource name}.",
        "^projects/[^/]+/locations/[^/]+/agents/[^/]+$",
        "Full name: projects/P/locations/L/agents/ID."),
    "automatedAgentRef": ref_def(
        "The agent behind the profile: {name: N} of an Agent in the set, "
        "or {external: a CX agent, CX environment or ES environment}.",
        "^projects/[^/]+/locations/[^/]+/(agents/[^/]+(/environments/[^/]+)?"
        "|agent/environments/[^/]+)$",
        "projects/P/locations/L/agents/ID[/environments/E] (CX) or "
        "projects/P/locations/L/agent/environments/E (ES)."),
    "serviceAccountRef": ref_def(
        "A service account: {name: N} of a ServiceAccount in the set, or "
        "{external: resource name or email}.",
        "^(projects/[^/]+/serviceAccounts/[^/]+|" + SA_EMAIL_RE + ")$",
        "projects/P/serviceAccounts/EMAIL_OR_ID, or the account's email."),
    "conversationProfileRef": ref_def(
        "A conversation profile: {name: N} of a ConversationProfile in the "
        "set, or {external: full resource name}.",
        "^projects/[^/]+/locations/[^/]+/conversationProfiles/[^/]+$",
        "Full name: projects/P/locations/L/conversationProfiles/ID."),
}


def ref_prop(defname, desc):
    return {"description": desc, "$ref": "#/definitions/" + defname}


def metadata_def(located, default_location="global"):
    props = {
        "name": {
            "description": "The address of this document: Kind/name is "
                           "unique within its project.",
            "type": "string",
            "pattern": NAME_RE,
            "maxLength": 63,
        },
        "project": {
            "description": "GCP project id (defaults to --project or a "
                           "variable).",
            "type": "string",
            "pattern": PROJECT_RE,
        },
    }
    if located:
        props["location"] = {
            "description": "Location of the resource, e.g. global, "
                           "us-central1, europe-west1.",
            "type": "string",
            "pattern": LOCATION_RE,
            "default": default_location,
        }
    props["annotations"] = {
        "description": "Behaviour switches; keys under ccaictl/ are "
                       "reserved to the known ones, other keys are free.",
        "type": "object",
        "properties": {
            "ccaictl/deletion-policy": {
                "description": "What destroy does: delete the resource, or "
                               "abandon it (forget it, leave it live).",
                "type": "string",
                "enum": ["delete", "abandon"],
            },
            "ccaictl/prevent-destroy": {
                "description": "\"true\" makes any plan that would delete "
                               "or replace this resource fail.",
                "type": "string",
                "enum": ["true", "false"],
            },
            "ccaictl/depends-on": {
                "description": "Extra ordering: Kind/name[,Kind/name...] "
                               "that must be applied first.",
                "type": "string",
                "pattern": DEPENDS_RE,
            },
        },
        "propertyNames": {
            "if": {"pattern": "^ccaictl/"},
            "then": {"enum": ["ccaictl/deletion-policy",
                              "ccaictl/prevent-destroy",
                              "ccaictl/depends-on"]},
        },
        "additionalProperties": {"type": "string"},
    }
    return {
        "description": "Identity and behaviour of the document.",
        "type": "object",
        "required": ["name"],
        "properties": props,
        "additionalProperties": False,
    }


def envelope(kind, located, spec, definitions, meta, description,
             default_location="global"):
    # located and the default location are kind facts too: the build reads
    # them from metadata.location (cmake/kinds.cmake)
    defs = {"metadata": metadata_def(located, default_location)}
    defs.update(definitions)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://ccaictl.dev/schemas/%s.schema.json" % kind,
        "description": description,
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"description": "Manifest format version.",
                           "const": "ccaictl/v1"},
            "kind": {"description": "The kind of this document.",
                     "const": kind},
            "metadata": {"description": "Name, project, location and "
                                        "annotations.",
                         "$ref": "#/definitions/metadata"},
            "spec": spec,
        },
        "additionalProperties": False,
        "definitions": defs,
        "x-ccaictl": meta,
    }


def ref(kind, api_field, is_list=False):
    r = {"kind": kind, "apiField": api_field}
    if is_list:
        r["list"] = True
    return r


def meta(service, discovery, identity, output_only, immutable, refs,
         local=(), files=()):
    """The kind's facts, the only place they are stated: the build makes C
    of them (cmake/kinds.cmake); docs/kinds.md says what each means."""
    return {
        "service": service,
        "discovery": discovery,
        "identity": identity,
        "outputOnly": output_only,
        "immutable": immutable,
        "refs": refs,
        "local": list(local),
        "files": list(files),
    }


def spec_desc(sch, text):
    return {"description": text, **sch}


# ------------------------------------------------------------------- kinds
def api_service():
    spec = {
        "description": "An API enabled in the project (serviceusage).",
        "type": "object",
        "required": ["service"],
        "properties": {
            "service": {
                "description": "Service name, e.g. dialogflow.googleapis.com.",
                "type": "string",
                "pattern": "^[a-z][a-z0-9.-]*\\.googleapis\\.com$",
                "maxLength": 253,
            },
            "disableOnDestroy": {
                "description": "Disable the API when this document is "
                               "destroyed (default: leave it enabled).",
                "type": "boolean",
                "default": False,
            },
        },
        "additionalProperties": False,
    }
    return envelope(
        "ApiService", False, spec, {},
        meta(None,  # serviceusage calls count against the caller's project
             "serviceusage.v1#GoogleApiServiceusageV1Service", "service",
             ["name", "parent", "state", "config"], ["service"], {},
             local=["disableOnDestroy", "disableDependentServices"]),
        "An enabled Google API (serviceusage v1 service state).")


def service_account(disc):
    sa = disc.type("iam.v1", "ServiceAccount")["properties"]
    cr = disc.type("iam.v1", "CreateServiceAccountRequest")["properties"]
    spec = {
        "description": "An IAM service account; identity accountId -> "
                       "email.",
        "type": "object",
        "required": ["accountId"],
        "properties": {
            "accountId": {
                "description": shorten(cr["accountId"]["description"]),
                "type": "string",
                "minLength": 6,
                "maxLength": 30,
                "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])$",
            },
            "displayName": {
                "description": shorten(sa["displayName"]["description"]),
                "type": "string",
                "maxLength": 100,
            },
            "description": {
                "description": shorten(sa["description"]["description"]),
                "type": "string",
                "maxLength": 256,
            },
            "disabled": {
                "description": "Whether the account is disabled (applied "
                               "with :disable / :enable).",
                "type": "boolean",
            },
        },
        "additionalProperties": False,
    }
    out = ["email", "etag", "name", "oauth2ClientId", "projectId",
           "uniqueId"]
    return envelope(
        "ServiceAccount", False, spec, {},
        meta("iam.googleapis.com", "iam.v1#ServiceAccount", "accountId",
             sorted(out), ["accountId"], {}),
        "An IAM service account (iam v1).")


def service_account_key(disc):
    key = disc.type("iam.v1", "ServiceAccountKey")["properties"]
    spec = {
        "description": "A user-managed key of a service account; the JSON "
                       "key is written only to keyFile.",
        "type": "object",
        "required": ["serviceAccountRef", "keyFile"],
        "properties": {
            "serviceAccountRef": ref_prop(
                "serviceAccountRef",
                "The service account the key belongs to."),
            "keyFile": {
                "description": "Local path the JSON key file is written to "
                               "(mode 0600); never printed or stored "
                               "elsewhere.",
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
            },
            "keyAlgorithm": {
                "description": shorten(disc.type(
                    "iam.v1", "CreateServiceAccountKeyRequest")
                    ["properties"]["keyAlgorithm"]["description"]),
                "type": "string",
                "enum": ["KEY_ALG_RSA_2048", "KEY_ALG_RSA_1024"],
                "default": "KEY_ALG_RSA_2048",
            },
            "rotateAfterDays": {
                "description": "Replace the key with a new one once it is "
                               "this many days old.",
                "type": "integer",
                "minimum": 1,
            },
        },
        "additionalProperties": False,
    }
    out = {k for k, v in key.items() if is_output_only(v)} | {
        "name", "privateKeyType", "privateKeyData", "publicKeyData",
        "validAfterTime", "validBeforeTime", "keyOrigin", "keyType"}
    return envelope(
        "ServiceAccountKey", False, spec,
        {"serviceAccountRef": REFS["serviceAccountRef"]},
        meta("iam.googleapis.com", "iam.v1#ServiceAccountKey", None,
             sorted(out), ["serviceAccountRef", "keyAlgorithm", "keyFile"],
             {"serviceAccountRef": ref("ServiceAccount", "serviceAccount")},
             local=["keyFile", "keyId", "rotateAfterDays", "orphanKeys"],
             files=["keyFile"]),
        "A service account key (iam v1) whose private key goes to a local "
        "file.")


def role_binding(disc):
    b = disc.type("cloudresourcemanager.v1", "Binding")["properties"]
    e = disc.type("cloudresourcemanager.v1", "Expr")["properties"]
    member_re = ("^((user|group):[^@ ]+@[^@ ]+|serviceAccount:[^ ]+"
                 "|domain:[-a-z0-9.]+|(principal|principalSet)://[^ ]+)$")
    spec = {
        "description": "One role granted to members in the project IAM "
                       "policy (additive: other members are kept).",
        "type": "object",
        "required": ["role"],
        "properties": {
            "role": {
                "description": shorten(b["role"]["description"]),
                "type": "string",
                "pattern": "^(roles/[A-Za-z0-9_.]+|(projects/[^/]+|"
                           "organizations/[0-9]+)/roles/[A-Za-z0-9_.]+)$",
            },
            "members": {
                "description": "Principals: user:, serviceAccount:, group:, "
                               "domain:, principal://, principalSet://.",
                "type": "array",
                "items": {"type": "string", "pattern": member_re},
                "uniqueItems": True,
            },
            "serviceAccountRefs": {
                "description": "Service accounts granted the role "
                               "(become serviceAccount:EMAIL members).",
                "type": "array",
                "items": {"$ref": "#/definitions/serviceAccountRef"},
                "uniqueItems": True,
            },
            "condition": {
                "description": shorten(b["condition"]["description"]),
                "type": "object",
                "required": ["title", "expression"],
                "properties": {
                    "title": {"description": shorten(
                        e["title"]["description"]), "type": "string",
                        "minLength": 1},
                    "expression": {"description": shorten(
                        e["expression"]["description"]), "type": "string",
                        "minLength": 1},
                    "description": {"description": shorten(
                        e["description"]["description"]), "type": "string"},
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
    return envelope(
        "RoleBinding", False, spec,
        {"serviceAccountRef": REFS["serviceAccountRef"]},
        meta("cloudresourcemanager.googleapis.com",
             "cloudresourcemanager.v1#Binding", "role", [],
             ["role", "condition"],
             {"serviceAccountRefs": ref("ServiceAccount", "members", True)}),
        "A project IAM policy binding: role + members (cloudresourcemanager "
        "v1).")


CX = "GoogleCloudDialogflowCxV3"


def security_settings(disc):
    T = CX + "SecuritySettings"
    k = Kind(disc, "dialogflow.v3", T, overrides={
        (T, "name"): {"outputOnly": True},
        (T, "displayName"): {"minLength": 1},
        (T, "inspectTemplate"): {"pattern": dlp("inspectTemplates")},
        (T, "deidentifyTemplate"): {"pattern": dlp("deidentifyTemplates")},
        (T, "retentionWindowDays"): {
            "minimum": 0, "maximum": 365,
            "description": "Days to keep data (0 = the default TTL); oneof "
                           "with retentionStrategy."},
        (T, "retentionStrategy"): {
            "description": "Retention behaviour; oneof with "
                           "retentionWindowDays."},
        (T, "purgeDataTypes"): UNIQUE,
        (T + "AudioExportSettings", "gcsBucket"): {
            "pattern": "^[a-z0-9][-a-z0-9_.]*[a-z0-9]$",
            "minLength": 3, "maxLength": 222},
    }, type_extra={
        T: {"not": {"required": ["retentionWindowDays",
                                 "retentionStrategy"]}},
    })
    spec = spec_desc(k.build_spec(), "Dialogflow CX security settings: "
                     "redaction, retention and the Insights export.")
    return envelope(
        "SecuritySettings", True, spec, k.definitions,
        meta("dialogflow.googleapis.com", "dialogflow.v3#" + T,
             "displayName", sorted(k.output_only), [], {}),
        "Dialogflow CX security settings (dialogflow v3), matched by "
        "displayName.")


LOGGING_EXTRA = {
    "enableConsentBasedRedaction": {
        "description": "Redact end-user input when the session parameter "
                       "$session.params.conversation-redaction says so "
                       "(newer API field).",
        "type": "boolean",
    },
}


def tts_overrides(prefix):
    T = prefix + "SynthesizeSpeechConfig"
    return {
        (T, "speakingRate"): {"minimum": 0.25, "maximum": 4.0},
        (T, "pitch"): {"minimum": -20.0, "maximum": 20.0},
        (T, "volumeGainDb"): {"minimum": -96.0, "maximum": 16.0},
    }


def agent(disc):
    T = CX + "Agent"
    ov = {
        (T, "name"): {"outputOnly": True},
        (T, "startFlow"): {"outputOnly": True},
        (T, "displayName"): {"minLength": 1},
        (T, "defaultLanguageCode"): {"pattern": LANG_RE},
        (T, "supportedLanguageCodes"): {"items": {"pattern": LANG_RE},
                                        "uniqueItems": True},
        (T, "timeZone"): {"pattern": TZ_RE},
        (T, "description"): {"maxLength": 500},
        (T, "enableStackdriverLogging"): {
            "description": "Deprecated: use advancedSettings.loggingSettings."
                           "enableStackdriverLogging."},
        (T, "securitySettings"): {"replace": ("securitySettingsRef", ref_prop(
            "securitySettingsRef",
            "Security settings of the agent (API field securitySettings); "
            "same location."))},
        (CX + "AdvancedSettingsSpeechSettings", "endpointerSensitivity"): {
            "minimum": 0, "maximum": 100},
        (CX + "AdvancedSettingsSpeechSettings", "models"): {
            "propertyNames": {"pattern": LANG_RE}},
        (CX + "AdvancedSettingsDtmfSettings", "maxDigits"): {
            "minimum": 1, "maximum": 2147483647},
        (CX + "AdvancedSettingsDtmfSettings", "finishDigit"): {
            "pattern": "^[0-9A-D*#]$"},
        (CX + "GcsDestination", "uri"): {"pattern": "^gs://[^/]+(/.*)?$"},
        (CX + "AgentGitIntegrationSettingsGithubSettings", "accessToken"): {
            "skip": True},
        (CX + "AgentGitIntegrationSettingsGithubSettings", "branches"):
            UNIQUE,
        (CX + "TextToSpeechSettings", "synthesizeSpeechConfigs"): {
            "propertyNames": {"pattern": LANG_RE}},
        (CX + "AgentGenAppBuilderSettings", "engine"): {
            "pattern": "^projects/[^/]+/locations/[^/]+/collections/[^/]+"
                       "/engines/[^/]+$"},
    }
    ov.update(tts_overrides(CX))
    k = Kind(disc, "dialogflow.v3", T, overrides=ov, extra_props={
        CX + "AdvancedSettingsLoggingSettings": LOGGING_EXTRA,
        T: {"restoreFrom": restore_from(disc)},
    })
    spec = spec_desc(k.build_spec(), "A Dialogflow CX agent "
                     "(Conversational Agents).")
    defs = dict(k.definitions)
    defs["securitySettingsRef"] = REFS["securitySettingsRef"]
    return envelope(
        "Agent", True, spec, defs,
        meta("dialogflow.googleapis.com", "dialogflow.v3#" + T,
             "displayName", sorted(k.output_only), ["defaultLanguageCode"],
             {"securitySettingsRef":
              ref("SecuritySettings", "securitySettings")},
             local=["restoreFrom"], files=["restoreFrom.file"]),
        "A Dialogflow CX agent (dialogflow v3), matched by displayName.")


def restore_from(disc):
    r = disc.type("dialogflow.v3", CX + "RestoreAgentRequest")["properties"]
    return {
        "description": "Sample data restored into the agent once, after "
                       "create: exactly one of file or agentUri.",
        "type": "object",
        "properties": {
            "file": {
                "description": "Local agent export (BLOB) sent as "
                               "agentContent; relative to the current "
                               "directory, like keyFile.",
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
            },
            "agentUri": {
                "description": "Cloud Storage object gs://BUCKET/OBJECT to "
                               "restore from (read with the caller's "
                               "credentials).",
                "type": "string",
                "pattern": GS_URI_RE,
            },
            "restoreOption": {
                "description": shorten(r["restoreOption"]["description"]),
                "type": "string",
                "enum": ["KEEP", "FALLBACK"],
                "default": "KEEP",
            },
            "enabled": {
                "description": "false skips the restore (lets a variable "
                               "switch sample data on and off).",
                "type": "boolean",
                "default": True,
            },
        },
        "additionalProperties": False,
        "oneOf": [{"required": ["file"]}, {"required": ["agentUri"]}],
    }


def logging_settings(disc):
    L = disc.type("dialogflow.v3",
                  CX + "AdvancedSettingsLoggingSettings")["properties"]
    props = {
        "agentRef": ref_prop("agentRef", "The agent whose advancedSettings."
                             "loggingSettings this document owns."),
    }
    for f in sorted(L):
        props[f] = {"description": shorten(L[f]["description"]),
                    "type": "boolean"}
    props.update(LOGGING_EXTRA)
    spec = {
        "description": "advancedSettings.loggingSettings of a CX agent "
                       "(only that part of the agent).",
        "type": "object",
        "required": ["agentRef"],
        "properties": dict(sorted(props.items())),
        "additionalProperties": False,
    }
    return envelope(
        "LoggingSettings", True, spec, {"agentRef": REFS["agentRef"]},
        meta("dialogflow.googleapis.com",
             "dialogflow.v3#" + CX + "AdvancedSettingsLoggingSettings", None,
             [], ["agentRef"], {"agentRef": ref("Agent", "name")}),
        "The logging settings of a Dialogflow CX agent (interaction and "
        "Cloud Logging).")


V2 = "GoogleCloudDialogflowV2"
HAAC = V2 + "HumanAgentAssistantConfig"


def conversation_profile(disc):
    T = V2 + "ConversationProfile"
    QC = HAAC + "SuggestionQueryConfig"
    ov = {
        (T, "name"): {"outputOnly": True},
        (T, "displayName"): {"minLength": 1, "maxLength": 1024},
        (T, "languageCode"): {"pattern": LANG_RE},
        (T, "timeZone"): {"pattern": TZ_RE},
        (T, "securitySettings"): {"replace": ("securitySettingsRef", ref_prop(
            "securitySettingsRef",
            "CX security settings applied to conversations of this profile "
            "(API field securitySettings)."))},
        (V2 + "AutomatedAgentConfig", "agent"): {
            "required": True,
            "replace": ("agentRef", ref_prop(
                "automatedAgentRef",
                "The Conversational Agent answering first (API field "
                "automatedAgentConfig.agent; draft environment)."))},
        (V2 + "AutomatedAgentConfig", "sessionTtl"): {
            "description": "Lifetime of the Dialogflow session after the "
                           "last request (default 30 minutes, at most 1 "
                           "day)."},
        (V2 + "NotificationConfig", "topic"): {"pattern": TOPIC_RE},
        (V2 + "SpeechToTextConfig", "languageCode"): {"pattern": LANG_RE},
        (V2 + "SpeechToTextConfig", "alternativeLanguageCodes"): {
            "items": {"pattern": LANG_RE}, "uniqueItems": True},
        (V2 + "SpeechToTextConfig", "sampleRateHertz"): {
            "minimum": 0, "maximum": 2147483647},
        (HAAC + "SuggestionConfig", "groupSuggestionResponses"): {
            "description": "Deliver the suggestions of all features together "
                           "instead of each as soon as it is ready."},
        (HAAC + "SuggestionConfig", "generators"): {
            "items": {"pattern": "^projects/[^/]+/locations/[^/]+"
                                 "/generators/[^/]+$"},
            "uniqueItems": True},
        (HAAC + "ConversationModelConfig", "model"): {
            "pattern": "^projects/[^/]+/(locations/[^/]+/)?"
                       "conversationModels/[^/]+$"},
        (HAAC + "ConversationProcessConfig", "recentSentencesCount"): {
            "minimum": 0, "maximum": 2147483647},
        (QC, "maxResults"): {"minimum": 1, "maximum": 20},
        (QC, "confidenceThreshold"): {"minimum": 0, "maximum": 1},
        (QC + "KnowledgeBaseQuerySource", "knowledgeBases"): {
            "items": {"pattern": "^projects/[^/]+/(locations/[^/]+/)?"
                                 "knowledgeBases/[^/]+$"},
            "minItems": 1, "maxItems": 5, "uniqueItems": True},
        (QC + "DocumentQuerySource", "documents"): {
            "items": {"pattern": "^projects/[^/]+/(locations/[^/]+/)?"
                                 "knowledgeBases/[^/]+/documents/[^/]+$"},
            "minItems": 1, "maxItems": 5, "uniqueItems": True},
        (QC + "Sections", "sectionTypes"): UNIQUE,
    }
    ov.update(tts_overrides(V2))
    k = Kind(disc, "dialogflow.v2", T, overrides=ov, type_extra={
        V2 + "HumanAgentHandoffConfig": {
            "not": {"required": ["livePersonConfig",
                                 "salesforceLiveAgentConfig"]}},
    })
    spec = spec_desc(k.build_spec(), "A conversation profile (Agent Assist "
                     "and/or a Conversational Agent).")
    defs = dict(k.definitions)
    defs["securitySettingsRef"] = REFS["securitySettingsRef"]
    defs["automatedAgentRef"] = REFS["automatedAgentRef"]
    return envelope(
        "ConversationProfile", True, spec, defs,
        meta("dialogflow.googleapis.com", "dialogflow.v2#" + T,
             "displayName", sorted(k.output_only), [],
             {"securitySettingsRef":
              ref("SecuritySettings", "securitySettings"),
              "automatedAgentConfig.agentRef":
              ref("Agent", "automatedAgentConfig.agent")}),
        "A Dialogflow v2 conversation profile, matched by displayName.")


CI = "GoogleCloudContactcenterinsightsV1"
PUBSUB_KEYS = ["all-triggers", "create-analysis", "create-conversation",
               "export-insights-data", "ingest-conversations",
               "update-conversation", "upload-conversation"]


def insights_settings(disc):
    T = CI + "Settings"
    AS = CI + "AnnotatorSelector"
    ov = {
        (T, "name"): {"outputOnly": True},
        (T, "languageCode"): {"pattern": LANG_RE},
        (T, "pubsubNotificationSettings"): {
            "propertyNames": {"enum": PUBSUB_KEYS},
            "description": "Trigger -> Pub/Sub topic "
                           "(projects/P/topics/T) notified when it fires."},
        (CI + "SettingsAnalysisConfig",
         "runtimeIntegrationAnalysisPercentage"): {
            "minimum": 0, "maximum": 100},
        (CI + "SettingsAnalysisConfig",
         "uploadConversationAnalysisPercentage"): {
            "minimum": 0, "maximum": 100},
        (AS, "issueModels"): {
            "items": {"pattern": "^projects/[^/]+/locations/[^/]+"
                                 "/issueModels/[^/]+$"},
            "uniqueItems": True},
        (AS, "phraseMatchers"): {
            "items": {"pattern": "^projects/[^/]+/locations/[^/]+"
                                 "/phraseMatchers/[^/]+$"},
            "uniqueItems": True},
        (AS + "SummarizationConfig", "conversationProfile"): {
            "replace": ("conversationProfileRef", ref_prop(
                "conversationProfileRef",
                "Profile whose summarization model is used (API field "
                "conversationProfile); oneof with summarizationModel."))},
        (CI + "RedactionConfig", "inspectTemplate"): {
            "pattern": dlp("inspectTemplates", located=False)},
        (CI + "RedactionConfig", "deidentifyTemplate"): {
            "pattern": dlp("deidentifyTemplates", located=False)},
        (CI + "SpeechConfig", "speechRecognizer"): {
            "pattern": "^projects/[^/]+/locations/[^/]+/recognizers?"
                       "/[^/]+$"},
    }
    k = Kind(disc, "contactcenterinsights.v1", T, overrides=ov, type_extra={
        AS + "SummarizationConfig": {
            "not": {"required": ["conversationProfileRef",
                                 "summarizationModel"]}},
    })
    spec = k.build_spec()
    spec["properties"]["pubsubNotificationSettings"][
        "additionalProperties"]["pattern"] = TOPIC_RE
    spec = spec_desc(spec, "Conversational Insights settings of one project "
                     "and location.")
    defs = dict(k.definitions)
    defs["conversationProfileRef"] = REFS["conversationProfileRef"]
    ref_path = "analysisConfig.annotatorSelector.summarizationConfig."
    return envelope(
        "InsightsSettings", True, spec, defs,
        meta("contactcenterinsights.googleapis.com",
             "contactcenterinsights.v1#" + T, None, sorted(k.output_only), [],
             {ref_path + "conversationProfileRef":
              ref("ConversationProfile", ref_path + "conversationProfile")}),
        "Contact Center AI Insights settings (contactcenterinsights v1), "
        "a singleton per project and location.",
        default_location="us-central1")  # Insights has no "global"


# -------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--discovery", default=os.path.join(
        os.path.dirname(ROOT), "shared", "reference", "discovery"))
    ap.add_argument("--out", default=os.path.join(ROOT, "schemas"))
    args = ap.parse_args()
    disc = Discovery(args.discovery)
    schemas = {  # in dependency order: what a kind refers to comes first
        "ApiService": api_service(),
        "ServiceAccount": service_account(disc),
        "ServiceAccountKey": service_account_key(disc),
        "RoleBinding": role_binding(disc),
        "SecuritySettings": security_settings(disc),
        "Agent": agent(disc),
        "LoggingSettings": logging_settings(disc),
        "ConversationProfile": conversation_profile(disc),
        "InsightsSettings": insights_settings(disc),
    }
    # the registry's (dependency) order, with room to put a kind between
    for i, sch in enumerate(schemas.values()):
        sch["x-ccaictl"]["order"] = (i + 1) * 10
    os.makedirs(args.out, exist_ok=True)
    for kind, sch in schemas.items():
        path = os.path.join(args.out, kind + ".schema.json")
        with open(path, "w") as f:
            json.dump(sch, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print("wrote", os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
