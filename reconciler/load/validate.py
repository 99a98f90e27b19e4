"""Validation: a Document -> a Spec, or every problem in it, located.

The steps, each adding located problems and none stopping the others:
1. `.env` and interpolation of string values (interpolate.py);
2. YAML 1.1 traps: numbers YAML made out of text such as `22:22` (sexagesimal) or `0755`;
3. the JSON Schema (schemas/spec.schema.json), its errors turned into plain messages: a
   missing key at its parent, an unknown key at itself with "did you mean";
4. normalisation into spec.py values (normalize.py), for the entries the schema accepted;
5. semantic checks across entries: image references, depends_on targets and cycles, host
   port clashes and ranges per replica, container names, env files, build contexts,
   commit bases, networks.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from reconciler.errors import Problem
from reconciler.load.source import Document, PathT, kind_of, render_path
from reconciler.model import spec as S

# Compose field names users carry over, and what they are called here.
COMPOSE_NAMES = {
    "environment": "env",
    "working_dir": "workdir",
    "container_name": "name",
    "stop_grace_period": "stop_timeout",
    "scale": "replicas",
    "deploy": "replicas",
    "expose": "ports",
    "image": "pull",
    "services": "containers",
    "dockerfile_inline": "dockerfile",
    "published": "host",
    "target": "container",
}
TYPE_NAMES = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}
SECTIONS = ("images", "containers", "networks", "volumes")


@cache
def schema() -> dict:
    """The spec's JSON Schema (schemas/spec.schema.json, packaged as reconciler/...)."""
    text = (Path(__file__).parent / "spec.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def schema_text() -> str:
    return (Path(__file__).parent / "spec.schema.json").read_text(encoding="utf-8")


@cache
def _validator():
    """A validator for the schema with its $refs inlined (2-3x faster on big specs: no
    reference lookups while validating)."""
    from jsonschema import Draft202012Validator

    full = schema()
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


def dotenv_variables(doc: Document) -> tuple[dict[str, str], list[Problem]]:
    """Variables of the `.env` file beside the spec (none if there is no such file)."""
    from reconciler.load.envfile import read_env_file

    path = doc.folder / ".env"
    if not path.is_file():
        return {}, []
    return read_env_file(path, doc.display_path(".env"))


def check_document(
    doc: Document, environ: Mapping[str, str] | None = None, project: str | None = None
) -> tuple[S.Spec | None, list[Problem]]:
    """(Spec, []) when valid, else (None, every problem sorted)."""
    from reconciler.load.interpolate import interpolate_document
    from reconciler.load.normalize import Normalizer

    environ = os.environ if environ is None else environ
    variables, problems = dotenv_variables(doc)
    variables.update(environ)
    data, interp_problems, interpolated, failed = interpolate_document(doc, variables)
    problems.extend(interp_problems)
    data = coerce_interpolated(data, interpolated)
    reported: set[PathT] = set(failed)

    for path, problem in yaml_traps(doc, data):
        problems.append(problem)
        reported.add(path)

    schema_problems, failed_paths = schema_check(doc, data, reported)
    problems.extend(schema_problems)
    reported |= failed_paths

    # Normalise everything (it is defensive), but drop its problems at or under a path that
    # already has one: they would repeat it. A section of the wrong type is skipped.
    skip = {path for path in reported if len(path) == 1}
    normalizer = Normalizer(doc, data, variables, skip=skip)
    spec = normalizer.spec(project)
    prefixes = {render_path(path) for path in reported}
    problems.extend(p for p in normalizer.problems if not _under(p.path, prefixes))
    problems.extend(
        p for p in Semantics(doc, data, spec, normalizer).run() if not _under(p.path, prefixes)
    )
    problems = _dedupe(problems)
    problems.sort(key=Problem.sort_key)
    return (None if problems else spec), problems


# Fields that take a number or a boolean: a `${VAR}` there gives text, converted back here.
_INT_FIELDS = (("containers", None, "replicas"), ("containers", None, "healthcheck", "retries"))
_BOOL_FIELDS = (
    ("containers", None, "volumes", None, "read_only"),
    ("networks", None, "internal"),
    ("networks", None, "external"),
    ("volumes", None, "external"),
)
_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")


def _field_match(path: PathT, patterns) -> bool:
    return any(
        len(path) == len(pattern)
        and all(p is None or p == q for p, q in zip(pattern, path, strict=True))
        for pattern in patterns
    )


def coerce_interpolated(data: Any, interpolated: set[PathT]) -> Any:
    """`replicas: ${N:-2}` is the number 2, `external: ${EXT}` a boolean (as in Compose)."""
    for path in interpolated:
        if _field_match(path, _INT_FIELDS):
            convert = _to_int
        elif _field_match(path, _BOOL_FIELDS):
            convert = _to_bool
        else:
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        value = parent[path[-1]]
        if isinstance(value, str):
            parent[path[-1]] = convert(value)
    return data


def _to_int(text: str) -> Any:
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else text


def _to_bool(text: str) -> Any:
    lowered = text.strip().lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else text


def _under(path: str, prefixes: set[str]) -> bool:
    """Whether `path` is one of `prefixes` or inside one of them."""
    if "" in prefixes or path in prefixes:
        return True
    cut = len(path)
    while cut > 0:
        dot = path.rfind(".", 0, cut)
        bracket = path.rfind("[", 0, cut)
        cut = max(dot, bracket)
        if cut > 0 and path[:cut] in prefixes:
            return True
    return False


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen = set()
    out = []
    for p in problems:
        k = (p.location, p.path, p.message)
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out


# --- YAML 1.1 traps ------------------------------------------------------------------------------


def yaml_traps(doc: Document, data: Any) -> Iterable[tuple[PathT, Problem]]:
    from reconciler.load.normalize import yaml_trap

    def walk(value: Any, path: PathT):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from walk(v, (*path, i))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = yaml_trap(doc, path, value)
            if problem is not None:
                yield path, problem

    yield from walk(data, ())


# --- JSON Schema ------------------------------------------------------------------------------


def schema_check(
    doc: Document, data: Any, reported: set[PathT]
) -> tuple[list[Problem], set[PathT]]:
    """Schema problems (skipping paths already reported) and the paths they are at.

    A fast yes/no check runs first (schemacheck.py); jsonschema, slow to import and to run,
    only explains a document that check rejects."""
    from reconciler.load.schemacheck import is_valid

    problems: list[Problem] = []
    paths: set[PathT] = set()
    if is_valid(data):
        return problems, paths
    for error in _validator().iter_errors(data):
        for path, problem in _convert(doc, error):
            paths.add(path)
            if path not in reported or problem.message == "unknown key":
                problems.append(problem)
    return problems, paths


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    alias = COMPOSE_NAMES.get(word)
    if alias in choices:
        return alias
    close = difflib.get_close_matches(word, list(COMPOSE_NAMES), n=1, cutoff=0.75)
    if close and COMPOSE_NAMES[close[0]] in choices:
        return COMPOSE_NAMES[close[0]]
    return None


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


def _convert(doc: Document, error) -> list[tuple[PathT, Problem]]:
    """One jsonschema error -> (path, problem) pairs in our words."""
    from reconciler.load.normalize import type_problem

    path: PathT = tuple(error.absolute_path)
    validator = error.validator
    value = error.instance
    sub = error.schema if isinstance(error.schema, dict) else {}

    def one(p: Problem, at: PathT = path):
        return [(at, p)]

    if "propertyNames" in error.absolute_schema_path:
        key_path = (*path, value)
        message = sub.get("x-message", "invalid name")
        return one(
            doc.problem(key_path, f"invalid key {value!r}: {message}", at_key=True), key_path
        )
    if validator == "required":
        missing = [k for k in error.validator_value if k not in value]
        return [
            (path, doc.problem(path, f'missing required key "{k}"', at_key=True)) for k in missing
        ]
    if validator == "additionalProperties":
        allowed = list(sub.get("properties", {}))
        patterns = list(sub.get("patternProperties", {}))
        out = []
        for key in value:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            guess = _suggest(key, allowed)
            hint = f'did you mean "{guess}"?' if guess else "expected one of: " + ", ".join(allowed)
            out.append(((*path, key), doc.problem((*path, key), "unknown key", hint, at_key=True)))
        return out
    if validator == "type":
        types = error.validator_value
        types = list(types) if isinstance(types, list) else [types]
        return one(type_problem(doc, path, _expected(types), value))
    if validator == "enum":
        choices = [str(c) for c in error.validator_value]
        guess = _suggest(str(value), choices) if isinstance(value, str) else None
        if not isinstance(value, str):
            return one(type_problem(doc, path, "one of " + ", ".join(choices), value))
        hint = f'did you mean "{guess}"?' if guess else None
        return one(doc.problem(path, f"must be one of {', '.join(choices)}, not {value!r}", hint))
    if validator == "const":
        expected = json.dumps(error.validator_value)
        if isinstance(value, str) and value == str(error.validator_value):
            return one(doc.problem(path, f"must be {expected}, not {value!r}", f"write {expected}"))
        shown = repr(value) if isinstance(value, (str, int, float)) else kind_of(value)
        return one(doc.problem(path, f"must be {expected}, not {shown}"))
    if validator == "pattern":
        message = sub.get("x-message", f"must match {error.validator_value}")
        return one(doc.problem(path, f"invalid value {value!r}: {message}"))
    if validator in ("minimum", "exclusiveMinimum"):
        return one(doc.problem(path, f"must be at least {error.validator_value}, not {value}"))
    if validator in ("minItems", "minLength", "minProperties"):
        return one(doc.problem(path, "must not be empty"))
    if validator in ("anyOf", "oneOf"):
        branches = error.validator_value
        if validator == "oneOf" and all(set(b) <= {"required", "description"} for b in branches):
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
            out = []
            for e in inner:
                out.extend(_convert(doc, e))
            if out:
                return out
        types = [t for b in branches for t in _types_of(b)]
        if "boolean" in types and any(b.get("const") is False for b in branches):
            types = [t for t in types if t != "boolean"]
        return one(type_problem(doc, path, _expected(types), value))
    return one(doc.problem(path, error.message))


# --- semantic checks --------------------------------------------------------------------------


class Semantics:
    """Checks across entries, on the normalised values (entries that normalised)."""

    def __init__(self, doc: Document, data: Any, spec: S.Spec, normalizer):
        self.doc = doc
        self.data = data if isinstance(data, dict) else {}
        self.spec = spec
        self.n = normalizer
        self.problems: list[Problem] = []

        def keys(section: str) -> list[str]:
            value = self.data.get(section)
            return list(value) if isinstance(value, dict) else []

        self.image_keys = keys("images")
        self.container_keys = keys("containers")
        self.network_keys = keys("networks")

    def err(self, path: PathT, message: str, hint: str | None = None, at_key=False) -> None:
        self.problems.append(self.doc.problem(path, message, hint, at_key))

    def raw(self, path: PathT) -> Any:
        value: Any = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def run(self) -> list[Problem]:
        self.image_refs()
        self.build_files()
        self.commit_cycles()
        self.dependencies()
        self.ports()
        self.names()
        self.networks()
        self.externals()
        return self.problems

    # images ----------------------------------------------------------------------------------
    def resolve_image(self, image: str, path: PathT, what: str) -> None:
        from reconciler.load.normalize import reference_problem

        if image in self.image_keys:
            return
        why = reference_problem(image)
        guess = _suggest(image, self.image_keys) if self.image_keys else None
        bare = "/" not in image and ":" not in image and "@" not in image
        if why is None and not (bare and guess):
            return
        if guess:
            hint = f'did you mean "{guess}"?'
            if why is None:
                hint += f" To use the image {image} itself, write {image}:latest"
            self.err(path, f"unknown images key {image!r}", hint)
            return
        hint = f"images keys: {', '.join(self.image_keys)}" if self.image_keys else None
        self.err(path, f"{why}, and not an images key", hint)

    def image_refs(self) -> None:
        for key, c in self.spec.containers.items():
            self.resolve_image(c.image, ("containers", key, "image"), "image")
        produced: dict[str, str] = {}
        for key, image in self.spec.images.items():
            if image.commit is not None:
                self.resolve_image(image.commit.base, ("images", key, "commit", "from"), "from")
            if image.kind in ("build", "commit"):
                other = produced.get(image.reference)
                if other is not None:
                    at = (
                        ("images", key, "tag")
                        if self.raw(("images", key, "tag"))
                        else ("images", key)
                    )
                    self.err(
                        at,
                        f"images.{other} already produces the tag {image.reference}",
                        "give each built or committed image its own tag",
                    )
                else:
                    produced[image.reference] = key

    def build_files(self) -> None:
        for key, image in self.spec.images.items():
            if image.build is None:
                continue
            base: PathT = ("images", key, "build")
            raw = self.raw(base)
            ctx_path = (*base, "context") if isinstance(raw, dict) and "context" in raw else base
            context = Path(image.build.context)
            if not context.is_dir():
                what = "is not a folder" if context.exists() else "not found"
                self.err(ctx_path, f"build context {what}: {context}")
                continue
            dockerfile = context / image.build.dockerfile
            if not dockerfile.is_file():
                at = (
                    (*base, "dockerfile")
                    if isinstance(raw, dict) and "dockerfile" in raw
                    else ctx_path
                )
                self.err(at, f"Dockerfile not found: {dockerfile}")

    def commit_cycles(self) -> None:
        edges = {
            k: [i.commit.base]
            for k, i in self.spec.images.items()
            if i.commit is not None and i.commit.base in self.spec.images
        }
        for cycle in _cycles(edges):
            first = cycle[0]
            self.err(
                ("images", first, "commit", "from"),
                "images commit from each other in a cycle: " + " -> ".join([*cycle, first]),
            )

    # containers --------------------------------------------------------------------------------
    def dep_path(self, key: str, index: int, target: str) -> PathT:
        raw = self.raw(("containers", key, "depends_on"))
        if isinstance(raw, dict):
            return ("containers", key, "depends_on", target)
        if isinstance(raw, list) and target in raw:
            return ("containers", key, "depends_on", raw.index(target))
        return ("containers", key, "depends_on")

    def dependencies(self) -> None:
        edges: dict[str, list[str]] = {}
        for key, c in self.spec.containers.items():
            seen = set()
            for i, dep in enumerate(c.depends_on):
                path = self.dep_path(key, i, dep.target)
                at_key = isinstance(path[-1], str) and path[-1] == dep.target
                if dep.target in seen:
                    self.err(path, f"depends on {dep.target!r} twice")
                    continue
                seen.add(dep.target)
                if dep.target not in self.container_keys:
                    guess = _suggest(dep.target, self.container_keys)
                    hint = f'did you mean "{guess}"?' if guess else None
                    self.err(path, f"unknown container {dep.target!r}", hint, at_key=at_key)
                    continue
                edges.setdefault(key, []).append(dep.target)
        for cycle in _cycles(edges):
            first = cycle[0]
            path = self.dep_path(first, 0, cycle[1] if len(cycle) > 1 else first)
            self.err(
                path,
                "depends_on forms a cycle: " + " -> ".join([*cycle, first]),
                at_key=isinstance(path[-1], str) and path[-1] != "depends_on",
            )

    def port_path(self, key: str, binding_index: int) -> PathT:
        paths = self.n.port_paths.get(key, [])
        if binding_index < len(paths):
            return paths[binding_index]
        return ("containers", key, "ports")

    def ports(self) -> None:
        # (protocol, host port) -> [(host ip, owner description, path)]
        taken: dict[tuple[str, int], list[tuple[str, str, PathT]]] = {}
        for key, c in self.spec.containers.items():
            if c.state == "absent":
                continue
            for i, p in enumerate(c.ports):
                path = self.port_path(key, i)
                if p.host_port is None:
                    continue
                size = 1 if p.host_port_end is None else p.host_port_end - p.host_port + 1
                if c.replicas == 0:
                    continue
                if p.host_port_end is None and c.replicas > 1:
                    self.err(
                        path,
                        f"replicas is {c.replicas} but the host port {p.host_port} is a single "
                        "port: every replica would publish it",
                        f"give a range of {c.replicas} ports like "
                        f'"{p.host_port}-{p.host_port + c.replicas - 1}", or omit the host port',
                    )
                    continue
                if p.host_port_end is not None and size != c.replicas:
                    self.err(
                        path,
                        f"the host port range {p.host_port}-{p.host_port_end} has {size} ports "
                        f"but replicas is {c.replicas}",
                        f"a range gives one port per replica: use "
                        f'"{p.host_port}-{p.host_port + c.replicas - 1}"',
                    )
                    continue
                for replica in range(1, c.replicas + 1):
                    port = p.host_port_for(replica)
                    assert port is not None
                    owner = f"containers.{key}" + (
                        f" (replica {replica})" if c.replicas > 1 else ""
                    )
                    clash = None
                    for ip, other, other_path in taken.get((p.protocol, port), []):
                        if _ips_overlap(ip, p.host_ip):
                            clash = (other, other_path)
                            break
                    taken.setdefault((p.protocol, port), []).append((p.host_ip, owner, path))
                    if clash:
                        where = f" on {p.host_ip}" if p.host_ip else ""
                        self.err(
                            path,
                            f"host port {port}/{p.protocol}{where} is already published by "
                            f"{clash[0]} at {render_path(clash[1])}",
                        )
                        break

    def names(self) -> None:
        generated: dict[str, str] = {}
        for key, c in self.spec.containers.items():
            if c.name is None:
                for replica in range(1, max(c.replicas, 1) + 1):
                    generated[S.container_name(self.spec.project, c, replica)] = key
        explicit: dict[str, str] = {}
        for key, c in self.spec.containers.items():
            if c.name is None:
                continue
            path = ("containers", key, "name")
            if c.replicas > 1:
                self.err(
                    path,
                    f"an explicit name needs replicas: 1, not {c.replicas}",
                    "remove name to get <project>-<key>-<replica> names",
                )
            if c.name in explicit:
                self.err(path, f"containers.{explicit[c.name]} already has the name {c.name!r}")
                continue
            if c.name in generated:
                self.err(
                    path,
                    f"{c.name!r} is the generated name of containers.{generated[c.name]}",
                )
                continue
            explicit[c.name] = key

    def networks(self) -> None:
        for key, c in self.spec.containers.items():
            raw = self.raw(("containers", key, "networks"))
            for i, attachment in enumerate(c.networks):
                if attachment.network in self.network_keys or attachment.network == "default":
                    continue
                if isinstance(raw, dict):
                    path: PathT = ("containers", key, "networks", attachment.network)
                else:
                    path = ("containers", key, "networks", i)
                guess = _suggest(attachment.network, self.network_keys)
                if guess:
                    hint = f'did you mean "{guess}"?'
                else:
                    hint = "declare it under the top-level networks:"
                self.err(
                    path,
                    f"unknown network {attachment.network!r}",
                    hint,
                    at_key=isinstance(raw, dict),
                )

    def externals(self) -> None:
        """An external network or volume is only used: options that define one are errors."""
        defining = {
            "networks": ("driver", "internal", "labels", "subnet"),
            "volumes": ("driver", "driver_opts", "labels"),
        }
        for section, options in defining.items():
            value = self.data.get(section)
            for key, entry in (value or {}).items() if isinstance(value, dict) else ():
                if not isinstance(entry, dict) or entry.get("external") is not True:
                    continue
                for option in options:
                    if option in entry:
                        self.err(
                            (section, key, option),
                            f"an external {section[:-1]} is created outside this spec: "
                            f"`{option}` cannot be set",
                            at_key=True,
                        )


def _ips_overlap(a: str, b: str) -> bool:
    wildcard = ("", "0.0.0.0", "::")
    return a == b or a in wildcard or b in wildcard


def _cycles(edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Cycles found by a depth-first search (iterative: long chains are fine), each once,
    rotated to start at its smallest key."""
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for root in sorted(edges):
        if root in state:
            continue
        stack: list[str] = [root]
        iters = [iter(edges.get(root, []))]
        state[root] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[stack.pop()] = 2
                iters.pop()
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                start = cycle.index(min(cycle))
                cycle = cycle[start:] + cycle[:start]
                if tuple(cycle) not in seen:
                    seen.add(tuple(cycle))
                    found.append(cycle)
            elif nxt not in state:
                state[nxt] = 1
                stack.append(nxt)
                iters.append(iter(edges.get(nxt, [])))
    return found
