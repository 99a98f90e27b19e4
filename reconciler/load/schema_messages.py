"""JSON Schema errors in plain words: a missing key at its parent, an unknown key at itself
with "did you mean", a wrong type with a quoting hint, one message per problem.

`schema_problems` is the schema step of load/loader.py: the fast check (load/schema.py) runs
first; jsonschema, slow to import and to run, only explains a document that check rejects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from reconciler.errors import Problem
from reconciler.load.hints import compose_hint, suggest, type_problem
from reconciler.load.schema import is_valid, schema, validator
from reconciler.load.source import Document, PathT, kind_of

TYPE_NAMES = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


class _Found(NamedTuple):
    path: PathT
    problem: Problem
    unknown_key: bool = False  # reported even under a path that already has a problem


def schema_problems(
    doc: Document, data: Any, reported: set[PathT]
) -> tuple[list[Problem], set[PathT]]:
    """Schema problems (skipping paths already reported, except unknown keys) and the paths
    they are at."""
    problems: list[Problem] = []
    paths: set[PathT] = set()
    if is_valid(data):
        return problems, paths
    for error in validator().iter_errors(data):
        for found in _convert(doc, error):
            paths.add(found.path)
            if found.path not in reported or found.unknown_key:
                problems.append(found.problem)
    return problems, paths


def _types_of(subschema: Mapping[str, Any]) -> list[str]:
    if "type" in subschema:
        t = subschema["type"]
        return list(t) if isinstance(t, list) else [t]
    if "$ref" in subschema:
        return _types_of(_resolve(subschema["$ref"]))
    if "anyOf" in subschema:
        return [t for sub in subschema["anyOf"] for t in _types_of(sub)]
    if "const" in subschema:
        return [_json_type(subschema["const"])]
    if "enum" in subschema:
        return sorted({_json_type(v) for v in subschema["enum"]})
    return []


def _resolve(ref: str) -> Mapping[str, Any]:
    name = ref.rsplit("/", 1)[-1]
    return schema()["$defs"][name]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "other"


def _matches_type(value: Any, types: list[str]) -> bool:
    t = _json_type(value)
    return t in types or (t == "integer" and "number" in types)


def _expected(types: list[str]) -> str:
    names = []
    for t in types:
        if t == "integer" and "number" in types:
            continue
        name = TYPE_NAMES.get(t, t)
        if name not in names:
            names.append(name)
    if len(names) <= 2:
        return " or ".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _convert(doc: Document, error: Any) -> list[_Found]:
    """One jsonschema error (a jsonschema.ValidationError) -> problems in our words."""
    path: PathT = tuple(error.absolute_path)
    keyword = error.validator
    value = error.instance
    sub = error.schema if isinstance(error.schema, dict) else {}

    def one(p: Problem, at: PathT = path) -> list[_Found]:
        return [_Found(at, p)]

    if "propertyNames" in error.absolute_schema_path:
        key_path = (*path, value)
        message = sub.get("x-message", "invalid name")
        return one(
            doc.problem(key_path, f"invalid key {value!r}: {message}", at_key=True), key_path
        )
    if keyword == "required":
        missing = [k for k in error.validator_value if k not in value]
        return [
            _Found(path, doc.problem(path, f'missing required key "{k}"', at_key=True))
            for k in missing
        ]
    if keyword == "additionalProperties":
        allowed = list(sub.get("properties", {}))
        patterns = list(sub.get("patternProperties", {}))
        out: list[_Found] = []
        for key in value:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            guess = suggest(key, allowed)
            hint = compose_hint(path, key) or (
                f'did you mean "{guess}"?' if guess else "expected one of: " + ", ".join(allowed)
            )
            problem = doc.problem((*path, key), "unknown key", hint, at_key=True)
            out.append(_Found((*path, key), problem, unknown_key=True))
        return out
    if keyword == "type":
        types = error.validator_value
        types = list(types) if isinstance(types, list) else [types]
        return one(type_problem(doc, path, _expected(types), value))
    if keyword == "enum":
        choices = [str(c) for c in error.validator_value]
        guess = suggest(str(value), choices) if isinstance(value, str) else None
        if not isinstance(value, str):
            return one(type_problem(doc, path, "one of " + ", ".join(choices), value))
        hint = f'did you mean "{guess}"?' if guess else None
        return one(doc.problem(path, f"must be one of {', '.join(choices)}, not {value!r}", hint))
    if keyword == "const":
        expected = json.dumps(error.validator_value)
        if isinstance(value, str) and value == str(error.validator_value):
            return one(doc.problem(path, f"must be {expected}, not {value!r}", f"write {expected}"))
        shown = repr(value) if isinstance(value, (str, int, float)) else kind_of(value)
        return one(doc.problem(path, f"must be {expected}, not {shown}"))
    if keyword == "pattern":
        message = sub.get("x-message", f"must match {error.validator_value}")
        return one(doc.problem(path, f"invalid value {value!r}: {message}"))
    if keyword in ("minimum", "exclusiveMinimum"):
        return one(doc.problem(path, f"must be at least {error.validator_value}, not {value}"))
    if keyword in ("minItems", "minLength", "minProperties"):
        return one(doc.problem(path, "must not be empty"))
    if keyword in ("anyOf", "oneOf"):
        branches = error.validator_value
        if keyword == "oneOf" and all(set(b) <= {"required", "description"} for b in branches):
            names = [b["required"][0] for b in branches]
            present = [n for n in names if isinstance(value, dict) and n in value]
            listing = ", ".join(names[:-1]) + " or " + names[-1]
            if not present:
                return one(doc.problem(path, f"needs one of {listing}", at_key=True))
            return one(
                doc.problem(
                    (*path, present[1]),
                    f"has both {present[0]} and {present[1]}: an image has exactly one of "
                    f"{listing}",
                    at_key=True,
                ),
                (*path, present[1]),
            )
        matching = [i for i, b in enumerate(branches) if _matches_type(value, _types_of(b))]
        if len(matching) == 1:
            inner = [e for e in error.context if e.schema_path and e.schema_path[0] == matching[0]]
            found: list[_Found] = []
            for e in inner:
                found.extend(_convert(doc, e))
            if found:
                return found
        types = [t for b in branches for t in _types_of(b)]
        if "boolean" in types and any(b.get("const") is False for b in branches):
            types = [t for t in types if t != "boolean"]
        return one(type_problem(doc, path, _expected(types), value))
    return one(doc.problem(path, error.message))
