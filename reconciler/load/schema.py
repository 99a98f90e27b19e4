"""The spec's JSON Schema: its text, the parsed schema, and a fast yes/no check against it.

`jsonschema` gives the detailed errors load/schema_messages.py turns into messages, but
importing it costs 0.1-0.3 s and validating a big spec with it takes a few hundred
milliseconds. `is_valid` implements exactly the keywords the spec's schema uses, answers only
"valid or not", and is what runs on every load: jsonschema is imported (in `validator`) only
when it says "not valid", to explain why. A keyword it does not know makes it refuse
(UnsupportedSchema), so a schema change cannot silently weaken validation; tests compare its
verdict with jsonschema's on random and mutated documents.

Callers: load/schema_messages.py, commands/schema.py (`schema_text`), tests and benchmarks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent / "spec.schema.json"

Check = Callable[[Any], bool]

# Keywords without effect on validity.
_ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "x-message", "$comment"}


@cache
def schema() -> dict:
    """The spec's JSON Schema (schemas/spec.schema.json, packaged as reconciler/...)."""
    return json.loads(schema_text())


def schema_text() -> str:
    """The schema file's text, as `reconciler schema` prints it."""
    return SCHEMA_FILE.read_text(encoding="utf-8")


@cache
def validator() -> Any:
    """A jsonschema validator for the schema with its $refs inlined (2-3x faster on big specs:
    no reference lookups while validating). Imports jsonschema: only to explain a document
    `is_valid` rejected."""
    from jsonschema import Draft202012Validator

    full = schema()
    return Draft202012Validator(_inline_refs(full, full.get("$defs", {})))

    return Draft202012Validator(_inline_refs(full, full.get("$defs", {})))


def _inline_refs(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = _inline_refs(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
            rest = {k: _inline_refs(v, defs) for k, v in node.items() if k != "$ref"}
            return {**target, **rest}
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


# --- the fast check -----------------------------------------------------------------------------


class UnsupportedSchema(Exception):
    """The schema uses a keyword this checker does not implement."""


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float))
    raise UnsupportedSchema(f"type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers; containers compare element-wise."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


class _Compiler:
    def __init__(self, root: Mapping[str, Any]):
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: str) -> Check:
        if not pointer.startswith("#/$defs/"):
            raise UnsupportedSchema(f"$ref {pointer!r}")
        if pointer not in self.refs:
            self.refs[pointer] = lambda v: False  # placeholder for recursive refs
            compiled = self.compile(self.root["$defs"][pointer[len("#/$defs/") :]])
            self.refs[pointer] = compiled
        return lambda v: self.refs[pointer](v)

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise UnsupportedSchema(repr(schema))
        checks: list[Check] = []
        for key, arg in schema.items():
            if key in _ANNOTATIONS:
                continue
            builder = getattr(self, "k_" + key.replace("$", ""), None)
            if builder is None:
                raise UnsupportedSchema(key)
            check = builder(arg, schema)
            if check is not None:
                checks.append(check)
        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(c(v) for c in checks)

    # keywords -------------------------------------------------------------------------------
    def k_ref(self, arg, schema) -> Check:
        return self.ref(arg)

    def k_type(self, arg, schema) -> Check:
        names = arg if isinstance(arg, list) else [arg]
        for name in names:
            _is_type(None, name)  # rejects unknown type names now
        return lambda v: any(_is_type(v, n) for n in names)

    def k_enum(self, arg, schema) -> Check:
        return lambda v: any(_equal(v, option) for option in arg)

    def k_const(self, arg, schema) -> Check:
        return lambda v: _equal(v, arg)

    def k_pattern(self, arg, schema) -> Check:
        rx = re.compile(arg)
        return lambda v: not isinstance(v, str) or rx.search(v) is not None

    def k_minimum(self, arg, schema) -> Check:
        return lambda v: not _is_type(v, "number") or v >= arg

    def k_maximum(self, arg, schema) -> Check:
        return lambda v: not _is_type(v, "number") or v <= arg

    def k_minItems(self, arg, schema) -> Check:
        return lambda v: not isinstance(v, list) or len(v) >= arg

    def k_minLength(self, arg, schema) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= arg

    def k_required(self, arg, schema) -> Check:
        return lambda v: not isinstance(v, dict) or all(k in v for k in arg)

    def k_items(self, arg, schema) -> Check:
        item = self.compile(arg)
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)

    def k_propertyNames(self, arg, schema) -> Check:
        name = self.compile(arg)
        return lambda v: not isinstance(v, dict) or all(name(k) for k in v)

    def k_anyOf(self, arg, schema) -> Check:
        options = [self.compile(s) for s in arg]
        return lambda v: any(o(v) for o in options)

    def k_oneOf(self, arg, schema) -> Check:
        options = [self.compile(s) for s in arg]
        return lambda v: sum(1 for o in options if o(v)) == 1

    def k_properties(self, arg, schema) -> Check:
        props = {k: self.compile(s) for k, s in arg.items()}
        return lambda v: (
            not isinstance(v, dict) or all(props[k](x) for k, x in v.items() if k in props)
        )

    def k_patternProperties(self, arg, schema) -> Check:
        pats = [(re.compile(p), self.compile(s)) for p, s in arg.items()]
        return lambda v: (
            not isinstance(v, dict)
            or all(check(x) for k, x in v.items() for rx, check in pats if rx.search(k))
        )

    def k_additionalProperties(self, arg, schema) -> Check:
        known = set(schema.get("properties", {}))
        pats = [re.compile(p) for p in schema.get("patternProperties", {})]
        extra = self.compile(arg)

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for k, x in v.items():
                if k in known or any(rx.search(k) for rx in pats):
                    continue
                if not extra(x):
                    return False
            return True

        return check


def compile_schema(schema: Mapping[str, Any]) -> Check:
    """A function value -> bool for `schema`. Raises UnsupportedSchema."""
    return _Compiler(schema).compile(schema)


@cache
def spec_check() -> Check | None:
    """The compiled check of the spec's schema, or None if it uses an unsupported keyword."""
    try:
        return compile_schema(schema())
    except UnsupportedSchema:
        return None


def is_valid(data: Any) -> bool | None:
    """True/False, or None when the fast check cannot decide (then use jsonschema)."""
    check = spec_check()
    return None if check is None else check(data)
