#!/usr/bin/env python3
"""Find the proto number of every enum value the emulator's discovery
documents name, from Google's own .proto files (googleapis/googleapis).

Discovery documents list an enum's values by name, in declaration order;
the generated clients (`$alt=json;enum-encoding=int`) send and expect the
proto numbers, which are not the positions: RedactionScope has
REDACT_DISK_STORAGE = 2 (1 is reserved), SuggestionFeature.Type has
KNOWLEDGE_SEARCH = 14, Insights' ConversationView lists FULL before BASIC
but numbers them 2 and 1.  This tool maps each discovery enum to its
proto enum and writes scripts/dev/enum-numbers.json:

  {"<doc>": {"<Schema>.<prop>" | "<method id>?<param>":
             [["NAME", number], ...]}}

with every value of the proto enum, in proto order (a proto may have
values newer than the discovery document: CONVERSATION_SUMMARIZATION = 8
of SuggestionFeature.Type).  strip-discovery.py adds those values to the
stripped documents' "enum" lists and writes the numbers beside them as
"enumNumbers".

A discovery schema names its proto message: GoogleCloudDialogflowCxV3Agent
is google.cloud.dialogflow.cx.v3.Agent, and nested messages are joined
(...SecuritySettingsInsightsExportSettings).  The property's field gives
the enum type, resolved as protoc would (innermost scope first).  A query
parameter is a field of the method's request message; the tool finds the
enum among the package's enums with exactly the parameter's value names.
When several proto enums fit and disagree, or none does, the tool stops;
an enum with no public proto (cloudresourcemanager v1) is listed in
FALLBACK with its source.

Development-time only (the build uses the committed JSON).  Run:

  python3 scripts/dev/enum-numbers.py GOOGLEAPIS   # a checkout, or a bare
                                                   # git dir (HEAD is read)
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DISC = os.path.join(HERE, "..", "..", "reconciler", "emulator", "discovery")
OUT = os.path.join(HERE, "enum-numbers.json")

# discovery document -> (schema name prefix, proto package, proto dirs)
APIS = {
    "dialogflow.v3": [("GoogleCloudDialogflowCxV3",
                       "google.cloud.dialogflow.cx.v3",
                       "google/cloud/dialogflow/cx/v3")],
    "dialogflow.v2": [("GoogleCloudDialogflowV2", "google.cloud.dialogflow.v2",
                       "google/cloud/dialogflow/v2")],
    "contactcenterinsights.v1": [
        ("GoogleCloudContactcenterinsightsV1",
         "google.cloud.contactcenterinsights.v1",
         "google/cloud/contactcenterinsights/v1")],
    "iam.v1": [("", "google.iam.admin.v1", "google/iam/admin/v1"),
               ("", "google.iam.v1", "google/iam/v1")],
    "iamcredentials.v1": [("", "google.iam.credentials.v1",
                           "google/iam/credentials/v1")],
    "cloudresourcemanager.v3": [
        ("", "google.cloud.resourcemanager.v3",
         "google/cloud/resourcemanager/v3"),
        ("", "google.iam.v1", "google/iam/v1")],
    "cloudresourcemanager.v1": [("", "google.iam.v1", "google/iam/v1")],
    "serviceusage.v1": [
        ("GoogleApiServiceusageV1", "google.api.serviceusage.v1",
         "google/api/serviceusage/v1"),
        ("", "google.api.serviceusage.v1", "google/api/serviceusage/v1"),
        ("", "google.api", "google/api"),
        ("", "google.protobuf", "google/protobuf")],
    "sts.v1": [],
}

# Enums without a public proto: numbered by their position in the
# discovery list, with the reason.
FALLBACK = {
    # cloudresourcemanager v1 (Project.lifecycleState) has no proto in
    # googleapis; v3's State has different names.  Discovery order.
    ("cloudresourcemanager.v1", "Project.lifecycleState"),
    # sts v1 has no proto in googleapis; its enums are not proto enums
    # on the wire (form fields), discovery order.
    ("sts.v1", "*"),
    # iam v1: the key disable reasons and extended status are newer than
    # the public google/iam/admin/v1 proto.  Discovery order.
    ("iam.v1", "DisableServiceAccountKeyRequest.serviceAccountKeyDisableReason"),
    ("iam.v1", "ServiceAccountKey.disableReason"),
    ("iam.v1", "ExtendedStatus.key"),
    # serviceusage v1: google.protobuf.Syntax (Api and Method) lives in
    # protocolbuffers/protobuf (type.proto: PROTO2 = 0, PROTO3 = 1,
    # EDITIONS = 2): discovery order is the same.
    ("serviceusage.v1", "Api.syntax"),
    ("serviceusage.v1", "Method.syntax"),
}


def git_or_fs(root):
    if os.path.isdir(os.path.join(root, "google")):
        def ls(d):
            out = []
            for base, _, files in os.walk(os.path.join(root, d)):
                for f in files:
                    if f.endswith(".proto"):
                        out.append(os.path.relpath(os.path.join(base, f),
                                                   root))
            return out

        def cat(p):
            with open(os.path.join(root, p)) as f:
                return f.read()
    else:
        def ls(d):
            r = subprocess.run(["git", "--git-dir", root, "ls-tree", "-r",
                                "--name-only", "HEAD", d + "/"],
                               capture_output=True, text=True, check=True)
            return [x for x in r.stdout.split() if x.endswith(".proto")]

        def cat(p):
            return subprocess.run(["git", "--git-dir", root, "show",
                                   "HEAD:" + p], capture_output=True,
                                  text=True, check=True).stdout
    return ls, cat


TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:[^"\\]|\\.)*"|'
                   r"'(?:[^'\\]|\\.)*'|[A-Za-z_][\w.]*|-?\d+|\S", re.S)


def tokens(text):
    """Tokens, comments dropped (strings may hold "//")."""
    return [t for t in TOKEN.findall(text) if not t.startswith("/")
            or len(t) == 1]


class Proto:
    def __init__(self):
        self.enums = {}  # full name -> {value name: number}
        self.fields = {}  # message full name -> {field: type as written}

    def parse(self, text):
        t = tokens(text)
        pkg = ""
        i = 0
        scope = []  # (kind, full name)

        def skip_block(i):
            depth = 0
            while i < len(t):
                if t[i] == "{":
                    depth += 1
                elif t[i] == "}":
                    depth -= 1
                    if depth == 0:
                        return i + 1
                i += 1
            return i

        def skip_stmt(i):
            depth = 0
            while i < len(t):
                if t[i] in "{[(":
                    depth += 1
                elif t[i] in "}])":
                    depth -= 1
                elif t[i] == ";" and depth == 0:
                    return i + 1
                i += 1
            return i

        while i < len(t):
            tok = t[i]
            cur = scope[-1] if scope else None
            if tok == "package" and not scope:
                pkg = t[i + 1]
                i = skip_stmt(i)
            elif tok in ("message", "enum") and i + 2 < len(t) and \
                    t[i + 2] == "{":
                parent = cur[1] if cur else pkg
                name = parent + "." + t[i + 1]
                scope.append((tok, name))
                if tok == "enum":
                    self.enums[name] = {}
                else:
                    self.fields.setdefault(name, {})
                i += 3
            elif tok in ("service", "extend") and not \
                    (cur and cur[0] == "enum"):
                i = skip_block(i)
            elif tok == "oneof" and cur and cur[0] == "message":
                scope.append(("oneof", cur[1]))
                i += 3
            elif tok == "}":
                scope.pop()
                i += 1
            elif tok in ("option", "reserved", "syntax", "import",
                         "extensions", "edition"):
                i = skip_stmt(i)
            elif tok == ";":
                i += 1
            elif cur and cur[0] == "enum":
                # NAME = N [opts];
                if t[i + 1] == "=":
                    self.enums[cur[1]][tok] = int(t[i + 2], 0)
                i = skip_stmt(i)
            elif cur and cur[0] in ("message", "oneof"):
                j = i
                if t[j] in ("repeated", "optional", "required"):
                    j += 1
                if t[j] == "map":
                    # map < K , V > name = N
                    typ, name = t[j + 4], t[j + 6]
                else:
                    typ, name = t[j], t[j + 1]
                self.fields[cur[1]][name] = (typ, cur[1])
                i = skip_stmt(i)
            else:
                i += 1

    def resolve(self, typ, scope):
        """The enum a field type names, looked up as protoc does."""
        if typ.startswith("."):
            return typ[1:] if typ[1:] in self.enums else None
        parts = scope.split(".")
        while parts:
            cand = ".".join(parts) + "." + typ
            if cand in self.enums:
                return cand
            parts.pop()
        return typ if typ in self.enums else None


def camel_to_snake(s):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), s)


def message_for(proto, prefix, pkg, schema):
    """The message full name a discovery schema name stands for."""
    if prefix and not schema.startswith(prefix):
        return None
    rest = schema[len(prefix):]
    # split rest into nested message names greedily, longest first
    def go(base, rest):
        if not rest:
            return base
        for n in range(len(rest), 0, -1):
            cand = base + "." + rest[:n]
            if cand in proto.fields:
                r = go(cand, rest[n:])
                if r:
                    return r
        return None
    return go(pkg, rest)


def by_names(proto, pkgs, names):
    want = set(names)
    found = []
    for full, vals in proto.enums.items():
        if any(full.startswith(p + ".") for p in pkgs) and \
                set(vals) == want:
            found.append(full)
    return found


def numbers_of(proto, enum, names):
    vals = proto.enums[enum]
    return [vals[n] for n in names]


def pairs(proto, enum):
    return [[n, v] for n, v in proto.enums[enum].items()]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ls, cat = git_or_fs(sys.argv[1])
    out = {}
    problems = []
    for doc, apis in sorted(APIS.items()):
        with open(os.path.join(DISC, doc + ".json")) as f:
            disc = json.load(f)
        proto = Proto()
        seen = set()
        for _, _, d in apis:
            for p in ls(d):
                if p in seen or (d == "google/api" and p.count("/") > 2) or \
                        (d == "google/protobuf" and p.count("/") > 2):
                    continue
                seen.add(p)
                proto.parse(cat(p))
        pkgs = [pkg for _, pkg, _ in apis]
        res = {}

        def fallback(key, names):
            for fdoc, fkey in FALLBACK:
                if fdoc == doc and (fkey == key or fkey == "*" or
                                    (fkey.startswith("*") and
                                     key.endswith(fkey[1:]))):
                    return [[n, i] for i, n in enumerate(names)]
            return None

        def field_enum(schema, prop):
            for prefix, pkg, _ in apis:
                msg = message_for(proto, prefix, pkg, schema)
                if not msg:
                    continue
                f = proto.fields[msg].get(camel_to_snake(prop))
                if not f:
                    # json_name differs (rare); try every field
                    for fn, fv in proto.fields[msg].items():
                        if fn.replace("_", "") == prop.lower():
                            f = fv
                if f:
                    return proto.resolve(f[0], msg)
            return None

        for sname, s in sorted(disc.get("schemas", {}).items()):
            for pname, p in sorted(s.get("properties", {}).items()):
                t = p.get("items", p)
                if "enum" not in t:
                    continue
                key = sname + "." + pname
                names = t["enum"]
                fb = fallback(key, names)
                if fb is not None:
                    res[key] = fb
                    continue
                en = field_enum(sname, pname)
                if not en:
                    cands = by_names(proto, pkgs, names)
                    nums = {tuple(numbers_of(proto, c, names))
                            for c in cands}
                    if len(nums) == 1:
                        res[key] = pairs(proto, cands[0])
                        continue
                    problems.append("%s: %s: no proto enum (%d by names)"
                                    % (doc, key, len(cands)))
                    continue
                missing = [n for n in names if n not in proto.enums[en]]
                if missing:
                    problems.append("%s: %s: %s lacks %s" % (
                        doc, key, en, ", ".join(missing)))
                    continue
                res[key] = pairs(proto, en)
        for mid, m in sorted(disc.get("methods", {}).items()):
            for pname, p in sorted(m.get("parameters", {}).items()):
                if "enum" not in p:
                    continue
                key = mid + "?" + pname
                names = p["enum"]
                fb = fallback(key, names)
                if fb is not None:
                    res[key] = fb
                    continue
                cands = by_names(proto, pkgs, names)
                nums = {tuple(numbers_of(proto, c, names)) for c in cands}
                if len(nums) != 1:
                    problems.append("%s: %s: %d proto enums fit" % (
                        doc, key, len(nums)))
                    continue
                res[key] = pairs(proto, cands[0])
        if res:
            out[doc] = res
    if problems:
        sys.exit("\n".join(problems))
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("%s: %d enums" % (OUT, sum(len(v) for v in out.values())))


if __name__ == "__main__":
    main()
