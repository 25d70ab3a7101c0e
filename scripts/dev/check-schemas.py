#!/usr/bin/env python3
"""Dev-time check of schemas/ and of manifest folders, until and besides
`ccaictl validate`.  Needs python3-yaml and python3-jsonschema (Debian
packages; install them by hand, they are not build or CI dependencies).

    python3 scripts/dev/check-schemas.py                 # schemas only
    python3 scripts/dev/check-schemas.py manifests --var project=p
    python3 scripts/dev/check-schemas.py examples/multi-env/manifests \\
        --var-file examples/multi-env/prod.vars.yaml

Schemas: each is a valid draft-07 schema, uses only the keywords our C
validator supports (see reconciler/manifest/schema.h), every pattern
compiles as POSIX ERE (through `grep -E`) and avoids ECMA-only syntax,
every property has a description, every object with properties closes
with additionalProperties false, and x-ccaictl names spec paths that
exist (refs, immutable) or do not (outputOnly).

Manifests: every *.yaml/*.yml document, after ${var} / ${var:-default}
expansion (a plain scalar is re-typed by YAML 1.2 core rules, as the
loader does), validates against the schema of its kind; Kind/name is
unique per project; every {name: N} ref names a document of the target
kind in the set.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

KEYWORDS = set("""$schema $id $ref definitions type enum const pattern
minLength maxLength minimum maximum exclusiveMinimum exclusiveMaximum
minItems maxItems uniqueItems items required properties additionalProperties
propertyNames patternProperties allOf anyOf oneOf not if then else
dependencies minProperties maxProperties description default
x-ccaictl-pattern""".split())
SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
SCHEMA_ONE = ("additionalProperties", "items", "not", "if", "then", "else",
              "propertyNames")
SCHEMA_LIST = ("allOf", "anyOf", "oneOf", "items")
ECMA_ONLY = re.compile(r"\(\?|\*\?|\+\?|\?\?|\}\?|\\[1-9]|\\[bBwWsSdD]")

REF_KINDS = {
    "securitySettingsRef": "SecuritySettings",
    "agentRef": "Agent",
    "serviceAccountRef": "ServiceAccount",
    "serviceAccountRefs": "ServiceAccount",
    "conversationProfileRef": "ConversationProfile",
}

problems = []


def problem(msg):
    problems.append(msg)
    print("FAIL:", msg)


# ---------------------------------------------------------------- schemas
def walk_schema(node, where, out):
    """Yields (where, schema) for every subschema."""
    if isinstance(node, bool):
        return
    if not isinstance(node, dict):
        problem("%s: schema is not an object" % where)
        return
    out.append((where, node))
    for k, v in node.items():
        if k == "x-ccaictl":
            continue
        if k in SCHEMA_MAPS:
            for name, sub in v.items():
                walk_schema(sub, "%s/%s/%s" % (where, k, name), out)
        elif k in SCHEMA_LIST and isinstance(v, list):
            for i, sub in enumerate(v):
                walk_schema(sub, "%s/%s/%d" % (where, k, i), out)
        elif k in SCHEMA_ONE:
            walk_schema(v, "%s/%s" % (where, k), out)
        elif k == "dependencies":
            for name, sub in v.items():
                if isinstance(sub, dict):
                    walk_schema(sub, "%s/%s/%s" % (where, k, name), out)


def ere_compiles(pattern):
    r = subprocess.run(["grep", "-E", "-q", "-e", pattern],
                       input=b"", capture_output=True)
    return r.returncode in (0, 1)  # 2 = bad regex


def spec_paths(schema):
    """Dotted spec paths reachable through properties (refs resolved)."""
    paths = set()

    def resolve(s):
        while "$ref" in s:
            s = schema["definitions"][s["$ref"].split("/")[-1]]
        return s

    def rec(s, prefix):
        s = resolve(s)
        for name, sub in s.get("properties", {}).items():
            paths.add(prefix + name)
            sub = resolve(sub)
            if sub.get("type") == "object" and "properties" in sub \
                    and not name.endswith("Ref"):
                rec(sub, prefix + name + ".")
    rec(schema["properties"]["spec"], "")
    return paths


def check_schema(path):
    name = os.path.basename(path)
    kind = name.split(".")[0]
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        problem("%s: not a draft-07 schema: %s" % (name, e.message))
    if schema.get("$id") != "https://ccaictl.dev/schemas/%s" % name:
        problem("%s: $id" % name)
    if schema["properties"]["kind"].get("const") != kind:
        problem("%s: kind const" % name)
    subs = []
    walk_schema(schema, "#", subs)
    for where, s in subs:
        for k in s:
            if k not in KEYWORDS and not (where == "#" and k == "x-ccaictl"):
                problem("%s %s: keyword %r not supported" % (name, where, k))
        if "pattern" in s:
            p = s["pattern"]
            if ECMA_ONLY.search(p):
                problem("%s %s: ECMA-only syntax in %r" % (name, where, p))
            if not ere_compiles(p):
                problem("%s %s: not POSIX ERE: %r" % (name, where, p))
            re.compile(p)
        if "properties" in s and s.get("additionalProperties") is not False \
                and not where.endswith("/annotations"):  # open on purpose
            problem("%s %s: additionalProperties is not false" % (name, where))
        for prop, sub in s.get("properties", {}).items():
            if isinstance(sub, dict) and not sub.get("description"):
                problem("%s %s/%s: no description" % (name, where, prop))
    meta = schema.get("x-ccaictl")
    if not isinstance(meta, dict) or set(meta) != {
            "service", "discovery", "identity", "outputOnly", "immutable",
            "refs", "local", "files", "order"}:
        problem("%s: x-ccaictl keys" % name)
        return schema
    if not isinstance(meta["order"], int) or isinstance(meta["order"], bool):
        problem("%s: x-ccaictl.order is not an integer" % name)
    paths = spec_paths(schema)
    for p in meta["outputOnly"]:
        if p in paths:
            problem("%s: outputOnly %s is a spec field" % (name, p))
    for p in meta["immutable"]:
        if p not in paths:
            problem("%s: immutable %s is not a spec field" % (name, p))
    for p, r in meta["refs"].items():
        if p not in paths:
            problem("%s: ref %s is not a spec field" % (name, p))
        if not isinstance(r, dict) or not {"kind", "apiField"} <= set(r) \
                or not set(r) <= {"kind", "apiField", "list", "sameLocation"}:
            problem("%s: ref %s: {kind, apiField[, list, sameLocation]}"
                    % (name, p))
    for p in meta["files"]:
        if p not in paths:
            problem("%s: file field %s is not a spec field" % (name, p))
    for p in paths:
        if p.split(".")[-1].endswith(("Ref", "Refs")) and p not in meta["refs"]:
            problem("%s: ref field %s missing from x-ccaictl.refs" % (name, p))
    return schema


# -------------------------------------------------------------- manifests
VAR_RE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


def expand(text, variables, where):
    def sub(m):
        if m.group(0) == "$${":
            return "${"
        name = m.group(1)
        if name in variables:
            return variables[name]
        if m.group(2) is not None:
            return m.group(3)
        problem("%s: undefined variable %r" % (where, name))
        return ""
    return VAR_RE.sub(sub, text)


def core_scalar(text):
    """YAML 1.2 core schema resolution of a plain scalar."""
    if re.fullmatch(r"null|Null|NULL|~|", text):
        return None
    if re.fullmatch(r"true|True|TRUE", text):
        return True
    if re.fullmatch(r"false|False|FALSE", text):
        return False
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"0o[0-7]+", text):
        return int(text[2:], 8)
    if re.fullmatch(r"0x[0-9a-fA-F]+", text):
        return int(text[2:], 16)
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?",
                    text):
        return float(text)
    return text


def construct(node, variables, where):
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            key = construct(k, variables, where)
            if key in out:
                problem("%s:%d: duplicate key %r" % (
                    where, k.start_mark.line + 1, key))
            out[key] = construct(v, variables, where)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [construct(v, variables, where) for v in node.value]
    text = expand(node.value, variables,
                  "%s:%d" % (where, node.start_mark.line + 1))
    if node.style is None:
        return core_scalar(text)
    return text


def load_docs(paths, variables):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for dirpath, _, names in os.walk(p):
                files += [os.path.join(dirpath, n) for n in names
                          if n.endswith((".yaml", ".yml"))]
        else:
            files.append(p)
    docs = []
    for f in sorted(files):
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        if "\t" in text:
            problem("%s: contains a tab" % f)
        for i, node in enumerate(yaml.compose_all(text)):
            if node is None:
                continue
            docs.append((f, i, node.start_mark.line + 1,
                         construct(node, variables, f)))
    return docs


def find_refs(spec, prefix=""):
    """Yields (path, field, ref object) for every *Ref(s) value."""
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k in REF_KINDS:
                for r in (v if isinstance(v, list) else [v]):
                    yield prefix + k, k, r
            else:
                yield from find_refs(v, prefix + k + ".")


def check_manifests(paths, variables, schemas, project_default):
    docs = load_docs(paths, variables)
    if not docs:
        problem("%s: no documents" % " ".join(paths))
    seen = {}
    for f, i, line, doc in docs:
        where = "%s:%d (document %d)" % (f, line, i)
        if not isinstance(doc, dict):
            problem("%s: not a mapping" % where)
            continue
        kind = doc.get("kind")
        if kind not in schemas:
            problem("%s: unknown kind %r" % (where, kind))
            continue
        v = jsonschema.Draft7Validator(schemas[kind])
        for e in sorted(v.iter_errors(doc), key=lambda e: list(e.path)):
            problem("%s: %s: %s" % (where, ".".join(map(str, e.path)),
                                    e.message))
        meta = doc.get("metadata") or {}
        project = meta.get("project", project_default)
        addr = (project, kind, meta.get("name"))
        if addr in seen:
            problem("%s: duplicate %s/%s/%s (first at %s)" % (
                where, project, kind, meta.get("name"), seen[addr]))
        seen[addr] = where
    for f, i, line, doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") not in schemas:
            continue
        meta = doc.get("metadata") or {}
        for path, field, ref in find_refs(doc.get("spec") or {}):
            if not isinstance(ref, dict) or "name" not in ref:
                continue
            target = (ref.get("project", meta.get("project", project_default)),
                      REF_KINDS[field], ref["name"])
            if target not in seen:
                problem("%s:%d: spec.%s: no %s/%s in the set" % (
                    f, line, path, target[1], target[2]))
    kinds = sorted({str(d[3].get("kind")) for d in docs
                    if isinstance(d[3], dict)})
    print("ok: %d documents (%s) under %s" % (
        len(docs), ", ".join(kinds), " ".join(paths)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--var", action="append", default=[])
    ap.add_argument("--var-file", action="append", default=[])
    ap.add_argument("--schemas", default=os.path.join(ROOT, "schemas"))
    args = ap.parse_args()
    schemas = {}
    for p in sorted(glob.glob(os.path.join(args.schemas, "*.schema.json"))):
        with open(p) as f:
            if "x-ccaictl" not in json.load(f):
                continue  # not a kind's schema (plan.schema.json)
        schemas[os.path.basename(p).split(".")[0]] = check_schema(p)
    print("ok: %d schemas checked" % len(schemas))
    variables = {}
    for vf in args.var_file:
        with open(vf) as f:
            for k, v in (yaml.safe_load(f) or {}).items():
                variables[k] = str(v).lower() if isinstance(v, bool) \
                    else str(v)
    for kv in args.var:
        k, _, v = kv.partition("=")
        variables[k] = v
    if args.paths:
        check_manifests(args.paths, variables, schemas,
                        variables.get("project"))
    if problems:
        print("%d problem(s)" % len(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
