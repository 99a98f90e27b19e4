"""`load_spec()`: the one entry point from a spec file to a validated, normalised Spec.

    spec.yaml --source--> Document (data + marks) --check_document--> Spec | SpecError

`check_document` runs the steps, each adding located problems and none stopping the others:
1. `.env` and interpolation of string values (interpolate.py, envfile.py);
2. YAML 1.1 traps: numbers YAML made out of text such as `22:22` (sexagesimal) or `0755`
   (hints.py);
3. the JSON Schema (schema.py's fast check; schema_messages.py explains a failure: a missing
   key at its parent, an unknown key at itself with "did you mean");
4. normalisation into model/spec.py values (normalize/), for the entries the schema accepted;
5. semantic checks across entries (semantics.py): image references, depends_on targets and
   cycles, host port clashes and ranges per replica, container names, build contexts, networks.

Every problem in the file (and in the files it names: env files, .env, build contexts) is
collected and raised at once as one SpecError with located, sorted problems. Callers:
commands (common, validate), watch/specsource.py, tests and benchmarks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from reconciler.errors import Problem, SpecError
from reconciler.load.envfile import read_env_file
from reconciler.load.hints import yaml_traps
from reconciler.load.interpolate import interpolate_document
from reconciler.load.normalize.normalizer import Normalizer
from reconciler.load.schema_messages import schema_problems
from reconciler.load.semantics import Semantics
from reconciler.load.source import Document, PathT, load_document, render_path
from reconciler.load.swarm import swarm_rules
from reconciler.model import spec as S


def load_spec(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    project: str | None = None,
    target: str | None = None,
) -> S.Spec:
    """Load, interpolate, validate and normalise a spec file.

    `environ` defaults to os.environ (a `.env` beside the spec adds variables; the
    environment wins). `project` overrides the spec's `project` (like `docker compose -p`).
    Raises SpecError with every problem found.
    """
    doc = load_document(path)
    spec, problems = check_document(doc, environ, project, target)
    if problems or spec is None:
        raise SpecError(problems)
    return spec


def dotenv_variables(doc: Document) -> tuple[dict[str, str], list[Problem]]:
    """Variables of the `.env` file beside the spec (none if there is no such file)."""
    path = doc.folder / ".env"
    if not path.is_file():
        return {}, []
    return read_env_file(path, doc.display_path(".env"))


def check_document(
    doc: Document,
    environ: Mapping[str, str] | None = None,
    project: str | None = None,
    target: str | None = None,
) -> tuple[S.Spec | None, list[Problem]]:
    """(Spec, []) when valid, else (None, every problem sorted)."""
    environ = os.environ if environ is None else environ
    variables, problems = dotenv_variables(doc)
    problems = [*doc.problems, *problems]
    variables.update(environ)
    data, interp_problems, interpolated, failed = interpolate_document(doc, variables)
    problems.extend(interp_problems)
    data = coerce_interpolated(data, interpolated)
    reported: set[PathT] = set(failed)

    for path, problem in yaml_traps(doc, data):
        problems.append(problem)
        reported.add(path)

    schema_problems_found, failed_paths = schema_problems(doc, data, reported)
    problems.extend(schema_problems_found)
    reported |= failed_paths

    # Normalise everything (it is defensive), but drop its problems at or under a path that
    # already has one: they would repeat it. A section of the wrong type is skipped.
    skip = {path for path in reported if len(path) == 1}
    normalizer = Normalizer(doc, data, variables, skip=skip)
    spec = normalizer.spec(project, target)
    prefixes = {render_path(path) for path in reported}
    problems.extend(p for p in normalizer.problems if not _under(p.path, prefixes))
    semantics = Semantics(doc, data, spec, normalizer.port_paths)
    problems.extend(p for p in semantics.run() if not _under(p.path, prefixes))
    spec, target_problems = swarm_rules(doc, data, spec)  # target swarm (and its fields)
    problems.extend(p for p in target_problems if not _under(p.path, prefixes))
    problems = _dedupe(problems)
    problems.sort(key=Problem.sort_key)
    if problems:
        return None, problems
    warnings = tuple(sorted(semantics.warnings, key=Problem.sort_key))
    return (replace(spec, warnings=warnings) if warnings else spec), problems


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
