"""`load_compose()`: Compose files -> the same validated Spec that a spec v1 file gives.

    files --resolve (include, extends, -f merge, profiles)--> model --checks (the key
    table)--> --translate--> spec v1 data --schema, normalise, semantics--> Spec

The spec v1 steps run on a `MappedDocument`: every spec v1 path maps back to the model path it
came from and from there to the FILE:LINE:COLUMN where the value was written, so every
problem names the Compose file. `compose_to_v1()` stops before the spec v1 steps (used by
`reconciler convert`). Called by load/inputs.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct, field, structs

from reconciler.errors import Location, Problem, SpecError
from reconciler.load.compose.checks import check_keys
from reconciler.load.compose.files import (
    PROJECT_RE,
    normalize_project_name,
    override_file,
    project_variables,
)
from reconciler.load.compose.merge import Tree
from reconciler.load.compose.resolve import Resolver, active_profiles, apply_profiles, merge_files
from reconciler.load.compose.translate import Translator
from reconciler.load.compose.values import V1
from reconciler.load.loader import _dedupe, _under
from reconciler.load.normalize.normalizer import Normalizer
from reconciler.load.schema_messages import schema_problems
from reconciler.load.semantics import Semantics
from reconciler.load.source import Document, Mark, PathT, render_path
from reconciler.load.swarm import swarm_rules
from reconciler.model import spec as S


class ComposeOptions(Struct):
    """What the command line adds to the files: -p, --env-file, --profile."""

    project: str | None = None
    env_files: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    default_override: bool = False  # no -f given: pick up compose.override.yaml
    target: str | None = None  # --target


class Converted(Struct):
    """The spec v1 document made from Compose files, and where its values came from."""

    v1: V1
    tree: Tree
    first: Document
    files: list[Path]  # every file read (watch watches them)
    warnings: list[Problem]
    variables: dict[str, str]  # the project's: environment over .env or --env-file


class MappedDocument(Document, kw_only=True):
    """A spec v1 document whose marks are those of the Compose files it was made from."""

    converted: Converted

    def model_path(self, path: PathT) -> PathT:
        links = self.converted.v1.links
        path = tuple(path)
        for cut in range(len(path), -1, -1):
            linked = links.get(path[:cut])
            if linked is not None:
                return (*linked, *path[cut:])
        return path

    def mark(self, path: PathT) -> Mark | None:
        doc, at = self.converted.tree.where(self.model_path(path))
        return doc.mark(at)

    def mark_at(self, path: PathT) -> Mark | None:
        doc, at = self.converted.tree.where(self.model_path(path))
        return doc.mark_at(at)

    def problem(self, path: PathT, message: str, hint: str | None = None, at_key=False):
        loc = self.key_location(path) if at_key else self.location(path)
        return Problem(message, loc, render_path(self.model_path(path)), hint)


def compose_to_v1(
    files: list[str],
    environ: Mapping[str, str],
    options: ComposeOptions,
    folder: Path | None = None,
) -> Converted:
    """Read, resolve, check and translate; raises SpecError with every problem found.
    `folder`: where relative host paths of the result are relative to (default: the project
    folder, the first file's)."""
    variables, problems = project_variables(Path(files[0]), options.env_files, environ)
    resolver = Resolver(variables)
    displays = list(files)
    if options.default_override and len(files) == 1:
        extra = override_file(Path(files[0]).absolute())
        if extra is not None:
            displays.append(str(Path(files[0]).parent / extra.name))
    trees = [t for d in displays if (t := resolver.load(d)) is not None]
    problems.extend(resolver.problems)
    if not trees:
        raise SpecError(problems)
    first_doc = trees[0].where(())[0]
    tree = merge_files(trees)
    warnings = list(resolver.warnings)
    if "version" in tree.data:
        del tree.data["version"]
        warnings.append(
            tree.problem(
                ("version",),
                "version is obsolete and ignored (the "
                "Compose Specification reads every file the same way)",
                at_key=True,
            )
        )
    project = _project(tree, options, variables, first_doc, problems)
    tree.data.pop("name", None)
    apply_profiles(tree, active_profiles(options.profiles, variables), problems)
    problems.extend(check_keys(tree))
    base = first_doc.folder
    v1 = Translator(tree, project, variables, base, folder).run()
    problems.extend(v1.problems)
    if problems:
        raise SpecError(_dedupe(problems))
    return Converted(v1, tree, first_doc, resolver.files, warnings, dict(variables))


def load_compose(
    files: list[str], environ: Mapping[str, str], options: ComposeOptions
) -> tuple[S.Spec, list[Path]]:
    """The Spec of Compose files and every file read; raises SpecError."""
    converted = compose_to_v1(files, environ, options)
    first = converted.first
    doc = MappedDocument(first.path, first.display, converted.v1.data, converted=converted)
    spec, problems = check_v1(doc, converted.v1.data, converted.variables, options.target)
    if problems or spec is None:
        raise SpecError(problems)
    warnings = tuple(sorted((*spec.warnings, *converted.warnings), key=Problem.sort_key))
    return structs.replace(spec, warnings=warnings), converted.files


def check_v1(
    doc: Document,
    data: dict[str, Any],
    variables: Mapping[str, str],
    target: str | None = None,
) -> tuple[S.Spec | None, list[Problem]]:
    """spec v1's schema, normaliser and semantic checks on translated data."""
    problems, reported = schema_problems(doc, data, set())
    skip: set[PathT] = {path for path in reported if len(path) == 1}
    normalizer = Normalizer(doc, data, variables, skip=skip)
    spec = normalizer.spec(None, target)
    prefixes = {
        render_path(doc.model_path(p)) if isinstance(doc, MappedDocument) else render_path(p)
        for p in reported
    }
    problems.extend(p for p in normalizer.problems if not _under(p.path, prefixes))
    semantics = Semantics(doc, data, spec, normalizer.port_paths)
    problems.extend(p for p in semantics.run() if not _under(p.path, prefixes))
    spec, target_problems = swarm_rules(doc, data, spec)  # --target swarm (load/swarm.py)
    problems.extend(p for p in target_problems if not _under(p.path, prefixes))
    problems = _dedupe(problems)
    problems.sort(key=Problem.sort_key)
    if problems:
        return None, problems
    warnings = tuple(sorted(semantics.warnings, key=Problem.sort_key))
    return structs.replace(spec, warnings=warnings), []


def _project(
    tree: Tree,
    options: ComposeOptions,
    variables: Mapping[str, str],
    first: Document,
    problems: list[Problem],
) -> str:
    """-p, COMPOSE_PROJECT_NAME, top-level name, else the folder's name normalised."""
    for value, source, path in (
        (options.project, "-p", None),
        (variables.get("COMPOSE_PROJECT_NAME") or None, "COMPOSE_PROJECT_NAME", None),
        (tree.data.get("name"), "name", ("name",)),
    ):
        if value is None:
            continue
        text = str(value)
        if not PROJECT_RE.match(text):
            message = (
                f"invalid project name {text!r} (from {source}): use lowercase letters, "
                "digits, - and _, starting with a letter or digit"
            )
            if path is not None:
                problems.append(tree.problem(path, message))
            else:
                problems.append(Problem(message, Location(first.display, 1, 1), "name"))
        return text
    name = normalize_project_name(first.folder.name)
    if not name:
        problems.append(
            Problem(
                f"cannot make a project name of the folder {first.folder.name!r}",
                Location(first.display, 1, 1),
                "name",
                "set name: or use -p",
            )
        )
    return name
