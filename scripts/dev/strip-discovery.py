#!/usr/bin/env python3
"""Strip Google discovery documents down to what the emulator needs.

Reads shared/reference/discovery/<api>.<version>.json and writes
reconciler/emulator/discovery/<api>.<version>.json holding:

  {"name", "version", "revision",
   "methods": {"<method id>": {"httpMethod", "path", "parameters",
                               "request", "response"}},
   "schemas": {"<name>": {"type", "properties", "items", "enum",
                          "format", "additionalProperties", "$ref", ...}}}

Only the methods the emulator serves are kept, and only the schemas their
requests and responses reach.  Descriptions are dropped, but three markers
Google writes into them are kept as booleans, so the emulator can derive
its rules from the documents instead of hand-written lists:

  "Output only." -> "readOnly": true   (the server ignores it on input)
  "Required."    -> "required": true   (checked on create)
  "Immutable."   -> "immutable": true  (refused by update when changed)

Fields newer than the 2024 documents (gcp-api-contracts.md section 0) are
added with "x-newer": true so that the emulator tolerates them.

Every enum gets "enumNumbers", the proto number of each value, from
enum-numbers.json beside the output (made by scripts/dev/enum-numbers.py
from googleapis' .proto files); values the proto has and the document
lacks (newer ones) are added to "enum".  An enum without numbers there is
an error: run enum-numbers.py again.

This is a development-time tool: the build uses the committed output and
does not need python.  Run it from the repository root:

  python3 scripts/dev/strip-discovery.py [DISCOVERY_DIR]
"""
import json
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "reference",
    "discovery")
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "reconciler",
                   "emulator", "discovery")

# The methods the emulator serves, by discovery id (prefix match when the
# entry ends with a dot).
SERVED = {
    "serviceusage.v1": [
        "serviceusage.services.get", "serviceusage.services.list",
        "serviceusage.services.enable", "serviceusage.services.disable",
        "serviceusage.services.batchEnable",
        "serviceusage.services.batchGet", "serviceusage.operations.get",
    ],
    "iam.v1": [
        "iam.projects.serviceAccounts.create",
        "iam.projects.serviceAccounts.get",
        "iam.projects.serviceAccounts.list",
        "iam.projects.serviceAccounts.patch",
        "iam.projects.serviceAccounts.update",
        "iam.projects.serviceAccounts.delete",
        "iam.projects.serviceAccounts.enable",
        "iam.projects.serviceAccounts.disable",
        "iam.projects.serviceAccounts.keys.create",
        "iam.projects.serviceAccounts.keys.get",
        "iam.projects.serviceAccounts.keys.list",
        "iam.projects.serviceAccounts.keys.delete",
        "iam.projects.serviceAccounts.keys.enable",
        "iam.projects.serviceAccounts.keys.disable",
    ],
    "iamcredentials.v1": [
        "iamcredentials.projects.serviceAccounts.generateAccessToken",
    ],
    "cloudresourcemanager.v1": [
        "cloudresourcemanager.projects.get",
        "cloudresourcemanager.projects.getIamPolicy",
        "cloudresourcemanager.projects.setIamPolicy",
        "cloudresourcemanager.projects.testIamPermissions",
    ],
    "cloudresourcemanager.v3": [
        "cloudresourcemanager.projects.get",
        "cloudresourcemanager.projects.getIamPolicy",
        "cloudresourcemanager.projects.setIamPolicy",
        "cloudresourcemanager.projects.testIamPermissions",
    ],
    "dialogflow.v3": [
        "dialogflow.projects.locations.securitySettings.",
        "dialogflow.projects.locations.agents.create",
        "dialogflow.projects.locations.agents.get",
        "dialogflow.projects.locations.agents.list",
        "dialogflow.projects.locations.agents.patch",
        "dialogflow.projects.locations.agents.delete",
        "dialogflow.projects.locations.agents.restore",
        "dialogflow.projects.locations.agents.export",
        "dialogflow.projects.locations.agents.sessions.detectIntent",
        "dialogflow.projects.locations.agents.environments.sessions."
        "detectIntent",
        "dialogflow.projects.locations.operations.get",
        "dialogflow.projects.operations.get",
    ],
    "dialogflow.v2": [
        "dialogflow.projects.locations.conversationProfiles.create",
        "dialogflow.projects.locations.conversationProfiles.get",
        "dialogflow.projects.locations.conversationProfiles.list",
        "dialogflow.projects.locations.conversationProfiles.patch",
        "dialogflow.projects.locations.conversationProfiles.delete",
        "dialogflow.projects.conversationProfiles.create",
        "dialogflow.projects.conversationProfiles.get",
        "dialogflow.projects.conversationProfiles.list",
        "dialogflow.projects.conversationProfiles.patch",
        "dialogflow.projects.conversationProfiles.delete",
        "dialogflow.projects.locations.conversations.create",
        "dialogflow.projects.locations.conversations.get",
        "dialogflow.projects.locations.conversations.list",
        "dialogflow.projects.locations.conversations.complete",
        "dialogflow.projects.locations.conversations.messages.list",
        "dialogflow.projects.locations.conversations.participants.create",
        "dialogflow.projects.locations.conversations.participants.get",
        "dialogflow.projects.locations.conversations.participants.list",
        "dialogflow.projects.locations.conversations.participants."
        "analyzeContent",
        "dialogflow.projects.conversations.create",
        "dialogflow.projects.conversations.get",
        "dialogflow.projects.conversations.list",
        "dialogflow.projects.conversations.complete",
        "dialogflow.projects.conversations.messages.list",
        "dialogflow.projects.conversations.participants.create",
        "dialogflow.projects.conversations.participants.get",
        "dialogflow.projects.conversations.participants.list",
        "dialogflow.projects.conversations.participants.analyzeContent",
        "dialogflow.projects.locations.operations.get",
        "dialogflow.projects.operations.get",
    ],
    "contactcenterinsights.v1": [
        "contactcenterinsights.projects.locations.getSettings",
        "contactcenterinsights.projects.locations.updateSettings",
        "contactcenterinsights.projects.locations.conversations.get",
        "contactcenterinsights.projects.locations.conversations.list",
        "contactcenterinsights.projects.locations.conversations.delete",
        "contactcenterinsights.projects.locations.operations.get",
    ],
    "sts.v1": ["sts.token"],
}

ANY = {"type": "any"}
B = {"type": "boolean"}
S = {"type": "string"}

# Fields newer than the saved documents (contracts section 0).  Types that
# the contract does not give are "any": tolerated, not checked.
NEWER = {
    "dialogflow.v3": {
        "GoogleCloudDialogflowCxV3Agent": {
            "clientCertificateSettings": {
                "type": "object",
                "properties": {"sslCertificate": S, "privateKey": S,
                               "passphrase": S}},
            "satisfiesPzi": dict(B, readOnly=True),
            "satisfiesPzs": dict(B, readOnly=True),
            "startPlaybook": S,
        },
        "GoogleCloudDialogflowCxV3AdvancedSettingsLoggingSettings": {
            "enableConsentBasedRedaction": B,
        },
    },
    "dialogflow.v2": {
        "GoogleCloudDialogflowV2ConversationProfile": {
            "newRecognitionResultNotificationConfig": {
                "$ref": "GoogleCloudDialogflowV2NotificationConfig"},
            "sipConfig": ANY,
        },
        "GoogleCloudDialogflowV2HumanAgentAssistantConfigSuggestionConfig": {
            "companionAgent": ANY, "enableAsyncToolCall": B,
            "skipEmptyEventBasedSuggestion": B,
            "useUnredactedConversationData": B,
        },
        "GoogleCloudDialogflowV2HumanAgentAssistantConfigSuggestionFeatureConfig": {
            "disableQuerySearchContext": B, "enableResponseDebugInfo": B,
            "raiSettings": ANY, "suggestionTriggerEvent": ANY,
        },
        "GoogleCloudDialogflowV2HumanAgentAssistantConfigMessageAnalysisConfig": {
            "enableSentimentAnalysisV3": B,
        },
        "GoogleCloudDialogflowV2SpeechToTextConfig": {
            "phraseSets": {"type": "array", "items": S},
            "useGeminiAsr": ANY, "geminiAsrConfig": ANY,
            "disableInterimInputTranscripts": B,
        },
        "GoogleCloudDialogflowV2Conversation": {
            "ingestedContextReferences": ANY,
            "initialConversationProfile": ANY,
            "initialGeneratorContexts": ANY,
            "telephonyConnectionInfo": ANY,
        },
        "GoogleCloudDialogflowV2Participant": {"agentDesktopSource": ANY},
        "GoogleCloudDialogflowV2AnalyzeContentRequest": {"audioInput": ANY},
    },
    "contactcenterinsights.v1": {
        "GoogleCloudContactcenterinsightsV1Settings": {
            "diagnosticMetricConfig": ANY, "screenRecordingBucketUri": S,
            "timeZone": S, "satisfiesPzi": dict(B, readOnly=True),
            "satisfiesPzs": dict(B, readOnly=True),
        },
        "GoogleCloudContactcenterinsightsV1AnnotatorSelector": {
            "qaConfig": ANY, "runAutoLabelingAnnotator": B,
            "runQaAnnotator": B,
        },
        "GoogleCloudContactcenterinsightsV1SpeechConfig": {
            "disableWordTimeOffsets": B,
        },
        "GoogleCloudContactcenterinsightsV1Conversation": {
            "correlationInfo": ANY, "metadataJson": S,
            "satisfiesPzi": dict(B, readOnly=True),
            "satisfiesPzs": dict(B, readOnly=True),
        },
        "GoogleCloudContactcenterinsightsV1ConversationDataSource": {
            "metadataUri": S, "turnLevelAudios": ANY,
        },
    },
}

KEEP_PROP = ("type", "format", "$ref", "enum", "readOnly")
MARKERS = (("Output only.", "readOnly"), ("Required.", "required"),
           ("Immutable.", "immutable"))


def markers(desc):
    out = {}
    # Google writes them at the start: "Required. Immutable. The ..."
    rest = (desc or "").lstrip()
    while True:
        for text, key in MARKERS:
            if rest.startswith(text):
                out[key] = True
                rest = rest[len(text):].lstrip()
                break
        else:
            return out


def strip_type(t):
    """A property or items/additionalProperties value, stripped."""
    out = {k: t[k] for k in KEEP_PROP if k in t}
    out.update(markers(t.get("description")))
    if "items" in t:
        out["items"] = strip_type(t["items"])
    if isinstance(t.get("additionalProperties"), dict):
        out["additionalProperties"] = strip_type(t["additionalProperties"])
    if "properties" in t:
        out["properties"] = {k: strip_type(v)
                             for k, v in sorted(t["properties"].items())}
    return out


def refs(t, acc):
    if isinstance(t, dict):
        for k, v in t.items():
            if k == "$ref" and isinstance(v, str):
                acc.add(v)
            else:
                refs(v, acc)
    elif isinstance(t, list):
        for v in t:
            refs(v, acc)


def walk_methods(res, acc):
    for m in res.get("methods", {}).values():
        acc[m["id"]] = m
    for r in res.get("resources", {}).values():
        walk_methods(r, acc)


def served(mid, wanted):
    return any(mid == w or (w.endswith(".") and mid.startswith(w))
               for w in wanted)


def strip(api, wanted):
    with open(os.path.join(SRC, api + ".json")) as f:
        doc = json.load(f)
    allm = {}
    walk_methods(doc, allm)
    methods = {}
    for mid in sorted(allm):
        if not served(mid, wanted):
            continue
        m = allm[mid]
        params = {}
        for pn, p in sorted(m.get("parameters", {}).items()):
            q = {k: p[k] for k in ("type", "format", "location", "repeated",
                                   "enum", "required", "pattern") if k in p}
            params[pn] = q
        out = {"httpMethod": m["httpMethod"],
               "path": m.get("flatPath", m["path"]),
               "parameters": params}
        if "request" in m:
            out["request"] = m["request"]["$ref"]
        if "response" in m:
            out["response"] = m["response"]["$ref"]
        methods[mid] = out
    missing = [w for w in wanted if not any(served(m, [w]) for m in methods)]
    if missing:
        sys.exit("%s: no such methods: %s" % (api, ", ".join(missing)))

    schemas = doc["schemas"]
    for sname, props in NEWER.get(api, {}).items():
        for pname, t in props.items():
            if pname in schemas[sname]["properties"]:
                sys.exit("%s: %s.%s is not new" % (api, sname, pname))
            schemas[sname]["properties"][pname] = dict(t, **{"x-newer": True})
    todo = set()
    for m in methods.values():
        todo.update(x for x in (m.get("request"), m.get("response")) if x)
    keep = {}
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        s = strip_type(schemas[name])
        for pname, t in schemas[name].get("properties", {}).items():
            if t.get("x-newer"):
                s["properties"][pname]["x-newer"] = True
        keep[name] = s
        acc = set()
        refs(s, acc)
        todo.update(acc - set(keep))
    # Query parameters every method accepts ($.xgafv, alt, fields, ...).
    standard = {k: {x: v[x] for x in ("type", "enum") if x in v}
                for k, v in sorted(doc.get("parameters", {}).items())}
    return {"name": doc["name"], "version": doc["version"],
            "revision": doc.get("revision"), "parameters": standard,
            "methods": methods,
            "schemas": {k: keep[k] for k in sorted(keep)}}


def add_numbers(api, out, numbers):
    """Puts "enumNumbers" beside every "enum" (see the module text)."""
    table = numbers.get(api, {})
    missing = []

    def fix(key, t):
        pairs = table.get(key)
        if pairs is None:
            missing.append(key)
            return
        by_name = dict((n, v) for n, v in pairs)
        names = list(t["enum"])
        lacking = [n for n in names if n not in by_name]
        if lacking:
            missing.append("%s (%s)" % (key, ", ".join(lacking)))
            return
        names += [n for n, _ in pairs if n not in names]
        t["enum"] = names
        t["enumNumbers"] = [by_name[n] for n in names]

    for sname, s in out["schemas"].items():
        for pname, p in s.get("properties", {}).items():
            t = p.get("items", p)
            if "enum" in t:
                fix(sname + "." + pname, t)
    for mid, m in out["methods"].items():
        for pname, p in m["parameters"].items():
            if "enum" in p:
                fix(mid + "?" + pname, p)
    if missing:
        sys.exit("%s: no proto numbers for %s; run scripts/dev/"
                 "enum-numbers.py" % (api, ", ".join(sorted(missing))))


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__),
                           "enum-numbers.json")) as f:
        numbers = json.load(f)
    for api, wanted in sorted(SERVED.items()):
        out = strip(api, wanted)
        add_numbers(api, out, numbers)
        path = os.path.join(OUT, api + ".json")
        with open(path, "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write("\n")
        print("%s: %d methods, %d schemas, %d bytes" % (
            path, len(out["methods"]), len(out["schemas"]),
            os.path.getsize(path)))


if __name__ == "__main__":
    main()
